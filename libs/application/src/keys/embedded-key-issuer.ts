import { createHmac, randomInt } from 'node:crypto';
import type { IssuedKeyRegistry } from './issued-key-registry';
import { KeyIssuer, type KeyRequest } from './key-issuer.port';

/**
 * Microsoft's product-key alphabet: letters and digits that cannot be misread for one another
 * (no vowels, no 0/1/5, no L/N/S/Z).
 */
export const PRODUCT_KEY_ALPHABET = 'BCDFGHJKMPQRTVWXY2346789';
const GROUPS = 5;
const GROUP_LENGTH = 5;
/** The HMAC key must be at least as long as SHA-256's output to keep its full strength. */
export const MIN_FINGERPRINT_SECRET_BYTES = 32;
/**
 * With 24^25 possible keys a repeat is practically impossible; several in a row mean the registry
 * or the random source is broken, and an error beats looping for ever.
 */
const MAX_ATTEMPTS = 8;

/** A uniform integer in [0, bound); `crypto.randomInt` by default, which rejects samples rather than taking a modulo. */
export type RandomIndex = (bound: number) => number;

export class KeyIssuerExhaustedError extends Error {
  constructor(attempts: number) {
    super(`no unused product key after ${attempts} attempts; check the issued-key registry and the random source`);
    this.name = 'KeyIssuerExhaustedError';
  }
}

/**
 * Makes MAK-shaped keys (`XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`) from a cryptographic random source and
 * claims each one's fingerprint (HMAC-SHA256 under `fingerprintSecret`) before handing it out,
 * drawing again when it was taken: no key is handed out twice, and the registry never sees key text.
 *
 * @example
 *   const issuer = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), secret);
 *   await issuer.issue({ softwareId, productId, skuId }); // 'QX7RB-...'
 */
export class EmbeddedKeyIssuer extends KeyIssuer {
  private readonly fingerprintSecret: Buffer;

  constructor(
    private readonly registry: IssuedKeyRegistry,
    fingerprintSecret: Buffer | string,
    private readonly randomIndex: RandomIndex = (bound) => randomInt(bound),
  ) {
    super();
    this.fingerprintSecret = Buffer.isBuffer(fingerprintSecret) ? Buffer.from(fingerprintSecret) : Buffer.from(fingerprintSecret, 'utf8');
    if (this.fingerprintSecret.length < MIN_FINGERPRINT_SECRET_BYTES) {
      throw new RangeError(`The key fingerprint secret must be at least ${MIN_FINGERPRINT_SECRET_BYTES} bytes`);
    }
  }

  /** Embedded keys are not tied to a product, so the request only matters to a vendor's issuer. */
  async issue(_request: KeyRequest): Promise<string> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const productKey = this.draw();
      if (await this.registry.claim(this.fingerprint(productKey))) return productKey;
    }
    throw new KeyIssuerExhaustedError(MAX_ATTEMPTS);
  }

  /** What the registry stores for a key; also lets a caller check a key against the registry. */
  fingerprint(productKey: string): string {
    return createHmac('sha256', this.fingerprintSecret).update(productKey, 'utf8').digest('hex');
  }

  private draw(): string {
    const groups: string[] = [];
    for (let group = 0; group < GROUPS; group++) {
      let text = '';
      for (let index = 0; index < GROUP_LENGTH; index++) text += PRODUCT_KEY_ALPHABET[this.randomIndex(PRODUCT_KEY_ALPHABET.length)];
      groups.push(text);
    }
    return groups.join('-');
  }
}
