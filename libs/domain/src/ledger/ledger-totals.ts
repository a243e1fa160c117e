import type { LedgerEntry, LedgerEntryKind } from './ledger-entry';

/** Sums of one currency in integer minor units; refunds, credits and voids are negative sums. */
export interface LedgerTotal {
  currency: string;
  charges: number;
  refunds: number;
  credits: number;
  voids: number;
  /** charges + refunds + credits: what was invoiced. A void was never charged, so it stays out. */
  net: number;
}

const SUM_OF_KIND: Record<LedgerEntryKind, 'charges' | 'refunds' | 'credits' | 'voids'> = {
  charge: 'charges',
  refund: 'refunds',
  credit: 'credits',
  void: 'voids',
};

/**
 * One total per currency, sorted by currency code; currencies are never added together.
 *
 * @example ledgerTotals([charge(+1000 EUR), refund(-400 EUR), void(-500 EUR)])
 *   // [{ currency: 'EUR', charges: 1000, refunds: -400, credits: 0, voids: -500, net: 600 }]
 */
export function ledgerTotals(entries: readonly LedgerEntry[]): LedgerTotal[] {
  const byCurrency = new Map<string, LedgerTotal>();
  for (const entry of entries) {
    const { currency, amount } = entry.amount;
    let total = byCurrency.get(currency);
    if (!total) {
      total = { currency, charges: 0, refunds: 0, credits: 0, voids: 0, net: 0 };
      byCurrency.set(currency, total);
    }
    total[SUM_OF_KIND[entry.kind]] += amount;
    if (entry.kind !== 'void') total.net += amount;
  }
  return [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}
