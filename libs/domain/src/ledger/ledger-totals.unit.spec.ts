import { money } from '../shared/money';
import type { LedgerEntry } from './ledger-entry';
import { ledgerTotals } from './ledger-totals';

function entry(kind: LedgerEntry['kind'], amount: number, currency: string): LedgerEntry {
  return {
    id: `${kind}-${amount}-${currency}`,
    kind,
    customerId: 'cust-1',
    subscriptionId: 'sub-1',
    amount: money(amount, currency),
    invoicePeriod: '2026-01',
    reason: kind,
    position: '1.1',
    occurredAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('ledgerTotals', () => {
  it('sums each kind, and leaves voids out of net', () => {
    const totals = ledgerTotals([
      entry('charge', 30_424, 'EUR'),
      entry('charge', 30_416, 'EUR'),
      entry('refund', -23_424, 'EUR'),
      entry('credit', -2_500, 'EUR'),
      entry('credit', -90_000, 'EUR'),
      entry('void', -30_416, 'EUR'),
      entry('void', -30_416, 'EUR'),
    ]);
    expect(totals).toEqual([
      // net = 60 840 − 23 424 − 92 500
      { currency: 'EUR', charges: 60_840, refunds: -23_424, credits: -92_500, voids: -60_832, net: -55_084 },
    ]);
  });

  it('keeps one total per currency, sorted by currency, never mixing them', () => {
    const totals = ledgerTotals([
      entry('charge', 500, 'USD'),
      entry('charge', 1_000, 'EUR'),
      entry('refund', -100, 'USD'),
      entry('void', -7, 'AUD'),
    ]);
    expect(totals).toEqual([
      { currency: 'AUD', charges: 0, refunds: 0, credits: 0, voids: -7, net: 0 },
      { currency: 'EUR', charges: 1_000, refunds: 0, credits: 0, voids: 0, net: 1_000 },
      { currency: 'USD', charges: 500, refunds: -100, credits: 0, voids: 0, net: 400 },
    ]);
  });

  it('has no totals for no entries', () => {
    expect(ledgerTotals([])).toEqual([]);
  });
});
