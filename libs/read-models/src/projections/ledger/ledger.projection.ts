import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import { ledgerEntriesOf, ledgerEntryIdParts, type LedgerEntry, type LedgerEntryKind } from '@csp/domain/ledger/ledger-entry';
import type { DomainEvent } from '@csp/domain/shared/event';
import { positionToString, type RecordedEvent } from '@csp/event-store';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { reusableStatement } from '../../reusable-statement';
import { multiRowStatement } from '../multi-row-statement';
import { foldPartneredRows, type PartneredRowsFold, type PartnersByCustomer } from '../partnered-rows';
import { keptByRebuild, rebuildKeepingPartners, type RebuildPartners } from '../rebuild-partners';

export interface LedgerEntriesTable {
  id: string;
  kind: LedgerEntryKind;
  customer_id: string;
  /** The customer's partner: a `BillingAdmin` reads only its own partner's entries. */
  partner_id: string;
  order_id: string | null;
  subscription_id: string | null;
  support_request_id: string | null;
  /** Signed integer minor units. */
  amount: number;
  currency: string;
  invoice_period: string;
  reason: string;
  /** The source event's position as `<commit>.<prepare>`, verbatim. */
  position: string;
  /**
   * The same position as two integers (written as decimal strings, so no precision is lost on the
   * way in), to order by log order and to cut "as of a position" in SQL; text would sort `10` before `9`.
   */
  position_commit: string | number;
  position_prepare: string | number;
  occurred_at: string;
  /**
   * The entries after the row's own that its source event gave alike in every other column (a
   * cancellation's voided installments), as JSON `[[amount, reason], ...]`: their ids are the row's
   * own with the index one higher each. Null when the row is one entry. See `ledgerEntriesOfRow`.
   */
  further_entries: string | null;
}

/** Which partner each customer belongs to: ledger events name the customer only. */
export interface LedgerCustomersTable {
  customer_id: string;
  partner_id: string;
}

/**
 * The log positions that gave a customer ledger entries: one row per source event, however many
 * entries it gave. A query for one customer's entries finds their positions here, then the entries
 * by position. An index of `ledger_entries` by customer cost each entry an insert at that customer's
 * place in it (a cancellation's refund and eleven voids: twelve), which made the service's
 * cancellations measurably slower; here a cancellation adds two rows (see "Twenty-ninth round" in
 * docs/benchmark-history.md). A row may be stored twice; readers ask `IN`, so that changes nothing.
 */
export interface LedgerCustomerPositionsTable {
  customer_id: string;
  position_commit: string | number;
}

export interface LedgerSchema {
  ledger_entries: LedgerEntriesTable;
  ledger_customers: LedgerCustomersTable;
  ledger_customer_positions: LedgerCustomerPositionsTable;
}

/** The event types that yield ledger entries (see `ledgerEntriesOf`). */
export const LEDGER_ENTRY_EVENT_TYPES = [
  'InstallmentBilled',
  'SubscriptionCancelled',
  'InstallmentVoided',
  'FutureInstallmentsVoided',
  'PerpetualLineCancelled',
  'SupportRequestApproved',
] as const;

export interface PartneredLedgerEntry extends LedgerEntry {
  /** `''` when the fold never saw the customer registered: no partner's `BillingAdmin` sees it. */
  partnerId: string;
}

/**
 * The ledger entries of one recorded event, each with its customer's partner. The live projection
 * and every in-memory replay (`asOf`, the CLI) go through this one function, so they cannot differ.
 * A customer the fold has not seen registered belongs to no partner (`''`): no partner's
 * `BillingAdmin` sees the entry, while totals over the whole log still count it.
 *
 * @example
 *   const partners = new Map<string, string>();
 *   const entries = partneredLedgerEntriesOf(recorded, (customerId) => partners.get(customerId));
 */
export function partneredLedgerEntriesOf(
  recorded: RecordedEvent,
  partnerOf: (customerId: string) => string | undefined,
): PartneredLedgerEntry[] {
  return withPartners(ledgerEntriesOfRecorded(recorded), partnerOf);
}

function withPartners(entries: LedgerEntry[], partnerOf: (customerId: string) => string | undefined): PartneredLedgerEntry[] {
  return entries.map((entry) => ({ ...entry, partnerId: partnerOf(entry.customerId) ?? '' }));
}

function ledgerEntriesOfRecorded(recorded: RecordedEvent): LedgerEntry[] {
  return ledgerEntriesOf(toDomainEvent(recorded), { eventId: recorded.id, position: positionToString(recorded.position) });
}

/** The customer → partner fact a `CustomerRegistered` carries, for the folds that need it. */
export function customerPartnerOf(recorded: RecordedEvent): { customerId: string; partnerId: string } | undefined {
  if (recorded.type !== 'CustomerRegistered') return undefined;
  const { customerId, partnerId } = (toDomainEvent(recorded) as CustomerRegistered).data;
  return { customerId, partnerId };
}

/**
 * A row read back from `ledger_entries`, as the domain's entries it holds, in id order (absent ids
 * omitted, not null): its own, then those of `further_entries`.
 */
export function ledgerEntriesOfRow(row: LedgerEntriesTable): PartneredLedgerEntry[] {
  const first = firstEntryOfRow(row);
  if (row.further_entries === null || row.further_entries === undefined) return [first];
  const parts = ledgerEntryIdParts(first.id);
  if (!parts) throw new Error(`ledger row ${first.id} holds further entries but its id is no entry's`);
  const { source, index } = parts;
  const further = JSON.parse(row.further_entries) as [number, string][];
  return [
    first,
    ...further.map(([amount, reason], offset) => ({
      ...first,
      id: `${source}:${index + 1 + offset}`,
      amount: { amount, currency: first.amount.currency },
      reason,
    })),
  ];
}

function firstEntryOfRow(row: LedgerEntriesTable): PartneredLedgerEntry {
  return {
    id: row.id,
    kind: row.kind,
    customerId: row.customer_id,
    partnerId: row.partner_id,
    ...(row.order_id !== null ? { orderId: row.order_id } : {}),
    ...(row.subscription_id !== null ? { subscriptionId: row.subscription_id } : {}),
    ...(row.support_request_id !== null ? { supportRequestId: row.support_request_id } : {}),
    amount: { amount: Number(row.amount), currency: row.currency },
    invoicePeriod: row.invoice_period,
    reason: row.reason,
    position: row.position,
    occurredAt: row.occurred_at,
  };
}

/**
 * The refund/credit ledger (SPEC "Refund/credit ledger"): one row per entry `ledgerEntriesOf`
 * derives, with the partner of its customer. Entries are never updated or deleted: the log is
 * append-only and so is the ledger.
 */
export const ledgerProjection: ProjectionDefinition<LedgerSchema> = {
  name: 'ledger',
  version: 1,
  handles: ['CustomerRegistered', ...LEDGER_ENTRY_EVENT_TYPES],
  tables: ['ledger_entries', 'ledger_customers', 'ledger_customer_positions'],
  migrations: (table) => ({
    '0001_create_ledger': {
      async up(db) {
        await db.schema
          .createTable(table('ledger_customers'))
          .ifNotExists()
          .addColumn('customer_id', 'text', (column) => column.primaryKey())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createTable(table('ledger_entries'))
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('kind', 'text', (column) => column.notNull())
          .addColumn('customer_id', 'text', (column) => column.notNull())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .addColumn('order_id', 'text')
          .addColumn('subscription_id', 'text')
          .addColumn('support_request_id', 'text')
          .addColumn('amount', 'bigint', (column) => column.notNull())
          .addColumn('currency', 'text', (column) => column.notNull())
          .addColumn('invoice_period', 'text', (column) => column.notNull())
          .addColumn('reason', 'text', (column) => column.notNull())
          .addColumn('position', 'text', (column) => column.notNull())
          .addColumn('position_commit', 'bigint', (column) => column.notNull())
          .addColumn('position_prepare', 'bigint', (column) => column.notNull())
          .addColumn('occurred_at', 'text', (column) => column.notNull())
          .execute();
        const index = (suffix: string, columns: string[]) =>
          db.schema.createIndex(`${table('ledger_entries')}_${suffix}`).ifNotExists().on(table('ledger_entries')).columns(columns).execute();
        await index('partner_customer', ['partner_id', 'customer_id']);
        await index('partner_period', ['partner_id', 'invoice_period']);
        await index('partner_kind', ['partner_id', 'kind']);
        await index('position', ['position_commit', 'position_prepare']);
      },
    },
    // A generation of an earlier version gets its customers' positions from its own entries, so it
    // answers customer queries at once and goes on folding; no rebuild is needed.
    '0002_customer_positions': {
      async up(db) {
        await db.schema
          .createTable(table('ledger_customer_positions'))
          .ifNotExists()
          .addColumn('customer_id', 'text', (column) => column.notNull())
          .addColumn('position_commit', 'bigint', (column) => column.notNull())
          .execute();
        await db
          .insertInto(table('ledger_customer_positions'))
          .columns(['customer_id', 'position_commit'])
          .expression((select) => select.selectFrom(table('ledger_entries')).select(['customer_id', 'position_commit']).distinct())
          .execute();
        await db.schema
          .createIndex(`${table('ledger_customer_positions')}_customer`)
          .ifNotExists()
          .on(table('ledger_customer_positions'))
          .columns(['customer_id', 'position_commit'])
          .execute();
        await dropIndexAndItsDeferral(db, `${table('ledger_entries')}_partner_customer`);
      },
    },
    // The integration-event feed reads a partner's entries in log order (`integrationEventsAfter`);
    // the ledger's own queries name a partner too.
    '0003_partner_position': {
      async up(db) {
        await db.schema
          .createIndex(`${table('ledger_entries')}_partner_position`)
          .ifNotExists()
          .on(table('ledger_entries'))
          .columns(['partner_id', 'position_commit', 'position_prepare'])
          .execute();
        await dropIndexAndItsDeferral(db, `${table('ledger_entries')}_position`);
      },
    },
    // Rows stored before hold one entry each, as rows of one entry still do: nothing to rebuild.
    '0004_further_entries': {
      async up(db) {
        await db.schema.alterTable(table('ledger_entries')).addColumn('further_entries', 'text').execute();
      },
    },
  }),
  apply(trx, recorded) {
    return foldLedger(trx, [recorded]);
  },
  applyBatch: (trx, events) => foldLedger(trx, events),
  rebuildFold: rebuildKeepingPartners(foldLedger, ledgerCustomers),
};

/**
 * A generation being built keeps its plain indexes deferred (`deferSecondaryIndexes`) until its
 * fold is done: an index a migration drops must be forgotten there too, or it comes back.
 */
async function dropIndexAndItsDeferral(db: Kysely<unknown>, name: string): Promise<void> {
  await db.schema.dropIndex(name).ifExists().execute();
  await sql`delete from projection_deferred_indexes where index_name = ${name}`.execute(db);
}

const insertLedgerEntries = multiRowStatement<LedgerSchema, LedgerEntriesTable>(
  {
    id: true,
    kind: true,
    customer_id: true,
    partner_id: true,
    order_id: true,
    subscription_id: true,
    support_request_id: true,
    amount: true,
    currency: true,
    invoice_period: true,
    reason: true,
    position: true,
    position_commit: true,
    position_prepare: true,
    occurred_at: true,
    further_entries: true,
  },
  (trx, rows) => trx.insertInto('ledger_entries').values(rows).onConflict((conflict) => conflict.column('id').doNothing()),
);

const insertCustomerPositions = multiRowStatement<LedgerSchema, LedgerCustomerPositionsTable>(
  { customer_id: true, position_commit: true },
  (trx, rows) => trx.insertInto('ledger_customer_positions').values(rows),
);

async function foldLedger(trx: Transaction<LedgerSchema>, events: readonly RecordedEvent[], rebuildPartners?: RebuildPartners): Promise<void> {
  const customerPositions: LedgerCustomerPositionsTable[] = [];
  const fold: PartneredRowsFold<LedgerEntriesTable> = {
    registrationOf: customerPartnerOf,
    rowsOf: (recorded) => {
      const { commit, prepare } = recorded.position;
      const entries = ledgerEntriesOfRecorded(recorded);
      for (const customerId of new Set(entries.map((entry) => entry.customerId))) {
        customerPositions.push({ customer_id: customerId, position_commit: commit.toString() });
      }
      return rowGroupsOf(entries).map(([entry, ...further]) => ({
        customerId: entry.customerId,
        complete: (partnerId) => ({
          id: entry.id,
          kind: entry.kind,
          customer_id: entry.customerId,
          partner_id: partnerId,
          order_id: entry.orderId ?? null,
          subscription_id: entry.subscriptionId ?? null,
          support_request_id: entry.supportRequestId ?? null,
          amount: entry.amount.amount,
          currency: entry.amount.currency,
          invoice_period: entry.invoicePeriod,
          reason: entry.reason,
          position: entry.position,
          position_commit: commit.toString(),
          position_prepare: prepare.toString(),
          occurred_at: entry.occurredAt,
          further_entries: further.length === 0 ? null : JSON.stringify(further.map((alike) => [alike.amount.amount, alike.reason])),
        }),
      }));
    },
    ...ledgerCustomers(trx),
    insertRows: (rows) => insertLedgerEntries(trx, rows),
  };
  await foldPartneredRows(events, keptByRebuild(fold, rebuildPartners));
  await insertCustomerPositions(trx, customerPositions);
}

/** The partner of each customer, as the ledger keeps it (`ledger_customers`). */
function ledgerCustomers(trx: Transaction<LedgerSchema>): PartnersByCustomer {
  return {
    storedPartners: async (customerIds) => {
      const { rows } = await selectLedgerCustomers(trx, customerIds);
      return new Map(rows.map((row) => [row.customer_id, row.partner_id]));
    },
    insertCustomers: async (customers) => {
      await trx
        .insertInto('ledger_customers')
        .values(customers.map(({ customerId, partnerId }) => ({ customer_id: customerId, partner_id: partnerId })))
        .onConflict((conflict) => conflict.column('customer_id').doNothing())
        .execute();
    },
  };
}

/**
 * The most entries one row holds: the row of any entry is then among the `MOST_ENTRIES_A_ROW` ids up
 * to its own (see `ledgerRowIdsHolding`).
 */
const MOST_ENTRIES_A_ROW = 128;

/**
 * One event's entries as the rows that store them: each run of entries alike in every column but
 * the id, the amount and the reason, their ids consecutive, is one row (at most `MOST_ENTRIES_A_ROW`
 * entries). A cancellation's voided installments, eleven entries for a monthly term's, were 65 % of
 * the ledger's rows on the benchmark's log and took about a tenth of a rebuild (see
 * "Thirty-eighth round" in docs/benchmark-history.md); together they are one row.
 */
function rowGroupsOf(entries: readonly LedgerEntry[]): LedgerEntry[][] {
  const groups: LedgerEntry[][] = [];
  let group: LedgerEntry[] | undefined;
  for (const entry of entries) {
    if (group && group.length < MOST_ENTRIES_A_ROW && continuesGroup(group, entry)) group.push(entry);
    else groups.push((group = [entry]));
  }
  return groups;
}

function continuesGroup(group: readonly LedgerEntry[], entry: LedgerEntry): boolean {
  const first = group[0]!;
  const parts = ledgerEntryIdParts(first.id);
  return (
    parts !== undefined &&
    entry.id === `${parts.source}:${parts.index + group.length}` &&
    entry.kind === first.kind &&
    entry.customerId === first.customerId &&
    entry.orderId === first.orderId &&
    entry.subscriptionId === first.subscriptionId &&
    entry.supportRequestId === first.supportRequestId &&
    entry.amount.currency === first.amount.currency &&
    entry.invoicePeriod === first.invoicePeriod &&
    entry.position === first.position &&
    entry.occurredAt === first.occurredAt
  );
}

/**
 * The ids of the rows that can hold the entry `entryId`: its own and the `MOST_ENTRIES_A_ROW - 1`
 * before it of the same source event. Empty for an id that is no entry's.
 */
export function ledgerRowIdsHolding(entryId: string): string[] {
  const parts = ledgerEntryIdParts(entryId);
  if (!parts || parts.source === '') return [];
  const { source, index } = parts;
  const lowest = Math.max(0, index - MOST_ENTRIES_A_ROW + 1);
  return Array.from({ length: index - lowest + 1 }, (_, offset) => `${source}:${index - offset}`);
}

const selectLedgerCustomers = reusableStatement(
  (customerIds: readonly string[]) => customerIds,
  (trx: Transaction<LedgerSchema>, customerIds) => trx.selectFrom('ledger_customers').selectAll().where('customer_id', 'in', customerIds),
  (customerIds) => customerIds.length,
);

function toDomainEvent(recorded: RecordedEvent): DomainEvent {
  return { type: recorded.type, data: recorded.data };
}
