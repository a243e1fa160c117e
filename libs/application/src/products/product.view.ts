import type { DownloadOptions, Sku } from '@csp/domain/catalogue/sku';
import { isCancellableProduct } from '@csp/domain/policies/cancellability.policy';
import { pricesIncludeTax } from '@csp/domain/policies/tax.policy';
import type { Money } from '@csp/domain/shared/money';

export interface ProductView {
  skuId: string;
  productId: string;
  title: string;
  publisher: string;
  kind: string;
  termDuration: string | null;
  billingCycles: string[];
  price: Money & { taxIncluded: boolean };
  deliversKeys: boolean;
  downloadOptions: DownloadOptions;
  installationInstructionsUrl?: string;
  cancellable: boolean;
  exchangeable: boolean;
}

export function productView(sku: Sku, country: string, price: Money): ProductView {
  return {
    skuId: sku.skuId,
    productId: sku.productId,
    title: sku.title,
    publisher: sku.publisher,
    kind: sku.kind,
    termDuration: sku.termDuration ?? null,
    billingCycles: sku.billingCycles,
    price: { ...price, taxIncluded: pricesIncludeTax(country) },
    deliversKeys: sku.deliversKeys,
    downloadOptions: sku.downloadOptions,
    ...(sku.installationInstructionsUrl ? { installationInstructionsUrl: sku.installationInstructionsUrl } : {}),
    cancellable: isCancellableProduct(sku),
    exchangeable: sku.exchangeable,
  };
}
