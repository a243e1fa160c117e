/** Commercial prices exclude tax, except in Australia and Brazil, where they include it. */
export const TAX_INCLUSIVE_MARKETS: readonly string[] = ['AU', 'BR'];

export function pricesIncludeTax(country: string): boolean {
  return TAX_INCLUSIVE_MARKETS.includes(country);
}
