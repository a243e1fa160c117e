/**
 * Software subscriptions bought on or after this instant autorenew by default and are
 * returned by the subscriptions list; older ones expire at their term end and are only
 * visible through the orders list (source: "am oder nach dem 14. Oktober 2021").
 */
export const AUTORENEW_CUTOFF = '2021-10-14T00:00:00.000Z';

export function isLegacyPurchase(purchasedAt: string): boolean {
  return Date.parse(purchasedAt) < Date.parse(AUTORENEW_CUTOFF);
}
