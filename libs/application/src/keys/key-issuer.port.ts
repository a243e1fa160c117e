/** Which purchase a key is for; the vendor's system needs it, the embedded issuer ignores it. */
export interface KeyRequest {
  softwareId: string;
  productId: string;
  skuId: string;
}

/**
 * Where product keys come from: the vendor's system in production, an embedded issuer by default.
 * An abstract class so Nest can inject it by class.
 *
 * @example const productKey = await keyIssuer.issue({ softwareId, productId, skuId }); // 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX'
 */
export abstract class KeyIssuer {
  abstract issue(request: KeyRequest): Promise<string>;
}
