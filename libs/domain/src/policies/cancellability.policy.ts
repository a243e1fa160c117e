/** RedHat and SUSE plans can never be cancelled or exchanged, whatever the catalogue says. */
export const NEVER_CANCELLABLE_PUBLISHERS: readonly string[] = ['RedHat', 'SUSE'];

export function isCancellableProduct(product: { publisher: string; cancellable: boolean }): boolean {
  return product.cancellable && !NEVER_CANCELLABLE_PUBLISHERS.includes(product.publisher);
}
