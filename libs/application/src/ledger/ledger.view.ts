import { ledgerChecksum } from '@csp/domain/ledger/ledger-checksum';
import type { LedgerEntry } from '@csp/domain/ledger/ledger-entry';
import { ledgerTotals, type LedgerTotal } from '@csp/domain/ledger/ledger-totals';
import type { PartneredLedgerEntry } from '@csp/read-models';
import { stringify } from 'csv-stringify/sync';
import type { ListPage } from '../queries/paging';

/** An entry as API.md "Compliance and finance" shows it (the partner is the caller's, so it is left out). */
export type LedgerEntryView = LedgerEntry;

/** `GET /v1/ledger`: one page of entries; `totals` and `checksum` over every entry the filters select. */
export interface LedgerAnswer extends ListPage<LedgerEntryView> {
  totals: LedgerTotal[];
  checksum: string;
}

/** Per customer and currency, the sums a partner checks against its monthly invoice. */
export interface CustomerPeriodTotal extends LedgerTotal {
  customerId: string;
  entries: number;
}

/** `GET /v1/ledger/periods/{YYYY-MM}`. */
export interface LedgerPeriodAnswer {
  invoicePeriod: string;
  items: CustomerPeriodTotal[];
  /** Per currency over every customer of the period. */
  totals: LedgerTotal[];
  checksum: string;
}

export function ledgerEntryView(entry: PartneredLedgerEntry): LedgerEntryView {
  const { partnerId: _partnerId, ...view } = entry;
  return view;
}

/** Totals per customer and currency, ordered by customer id then currency. */
export function ledgerPeriodAnswer(invoicePeriod: string, entries: readonly PartneredLedgerEntry[]): LedgerPeriodAnswer {
  const byCustomer = new Map<string, PartneredLedgerEntry[]>();
  for (const entry of entries) byCustomer.set(entry.customerId, [...(byCustomer.get(entry.customerId) ?? []), entry]);
  const customerIds = [...byCustomer.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const items = customerIds.flatMap((customerId) => {
    const ofCustomer = byCustomer.get(customerId)!;
    return ledgerTotals(ofCustomer).map((total) => ({
      customerId,
      ...total,
      entries: ofCustomer.filter((entry) => entry.amount.currency === total.currency).length,
    }));
  });
  return { invoicePeriod, items, totals: ledgerTotals(entries), checksum: ledgerChecksum(entries) };
}

/**
 * The CSV export's columns, in order: every field of the checksum's canonical line, plus `reason`,
 * so a finance tool can recompute the checksum from the file alone.
 */
export const LEDGER_CSV_COLUMNS = [
  'id',
  'kind',
  'customerId',
  'orderId',
  'subscriptionId',
  'supportRequestId',
  'amount',
  'currency',
  'invoicePeriod',
  'reason',
  'position',
  'occurredAt',
] as const;

/** RFC 4180 CSV with a header row, CRLF line ends; absent ids are empty cells, amounts signed minor units. */
export function ledgerCsv(entries: readonly LedgerEntry[]): string {
  const rows = entries.map((entry) => [
    entry.id,
    entry.kind,
    entry.customerId,
    entry.orderId ?? '',
    entry.subscriptionId ?? '',
    entry.supportRequestId ?? '',
    String(entry.amount.amount),
    entry.amount.currency,
    entry.invoicePeriod,
    entry.reason,
    entry.position,
    entry.occurredAt,
  ]);
  return stringify([[...LEDGER_CSV_COLUMNS], ...rows], { record_delimiter: 'windows' });
}
