import { compareLedgerEntries } from '@csp/domain/ledger/ledger-checksum';
import type { LedgerEntryKind } from '@csp/domain/ledger/ledger-entry';
import { comparePositions, readPages, type EventStore, type LogPosition } from '@csp/event-store';
import { customerPartnerOf, ledgerEntriesOfRow, partneredLedgerEntriesOf, type PartneredLedgerEntry, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable } from '@nestjs/common';
import { setImmediate } from 'node:timers/promises';
import { EVENT_STORE, READ_MODEL_DB } from '../tokens';

/** The moment a ledger is asked for: a log position (inclusive), or an instant of the store's clock. */
export type LedgerAsOf = { position: LogPosition } | { instant: string };

/** Which entries: each member left out selects everything. */
export interface LedgerFilter {
  /** The partner whose customers' entries are read; operator tools read every partner's. */
  partnerId?: string;
  customerId?: string;
  /** `YYYY-MM`. */
  invoicePeriod?: string;
  kind?: LedgerEntryKind;
}

/** The selected entries in the checksum's canonical order, and the log position they reflect. */
export interface LedgerSelection {
  entries: PartneredLedgerEntry[];
  /** The last log position the selection reflects; undefined when it reflects an empty log. */
  position: LogPosition | undefined;
}

/**
 * Reads ledger entries either from the live `ledger` projection or, as of a past moment, by
 * replaying the log itself (the same fold the projection runs), never from the live tables: a
 * rebuild in progress or a projection bug cannot change what the log says the ledger was.
 *
 * @example
 *   const { entries } = await reader.asOf({ partnerId: 'partner-1', invoicePeriod: '2026-03' }, { instant: '2026-03-31T23:59:59Z' });
 */
@Injectable()
export class LedgerReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
  ) {}

  /** From the live projection; with `upTo`, only entries of events at or before that position. */
  async current(filter: LedgerFilter, upTo?: LogPosition): Promise<PartneredLedgerEntry[]> {
    let query = this.db.selectFrom('ledger_entries').selectAll();
    const { customerId } = filter;
    if (customerId !== undefined) {
      // By the positions of the customer's events (see `LedgerCustomerPositionsTable`); the other
      // filters are applied to those few entries below. Given them in SQL, SQLite (no statistics)
      // reads every entry of the partner through a partner index instead.
      query = query
        .where('customer_id', '=', customerId)
        .where('position_commit', 'in', (select) =>
          select.selectFrom('ledger_customer_positions').select('position_commit').where('customer_id', '=', customerId),
        );
    } else {
      if (filter.partnerId !== undefined) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.invoicePeriod !== undefined) query = query.where('invoice_period', '=', filter.invoicePeriod);
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    }
    if (upTo) {
      const [commit, prepare] = [upTo.commit.toString(), upTo.prepare.toString()];
      query = query.where((where) =>
        where.or([
          where('position_commit', '<', commit),
          where.and([where('position_commit', '=', commit), where('position_prepare', '<=', prepare)]),
        ]),
      );
    }
    const rows = await query.orderBy('position_commit').orderBy('position_prepare').execute();
    const entries = rows.flatMap(ledgerEntriesOfRow);
    // Ids of one position are ordered in JS: PostgreSQL's collation need not be code-unit order.
    return (customerId === undefined ? entries : entries.filter((entry) => matches(entry, filter))).sort(compareLedgerEntries);
  }

  /** Replayed from the log up to the moment `asOf` names. */
  async asOf(filter: LedgerFilter, asOf: LedgerAsOf): Promise<LedgerSelection> {
    const until = 'position' in asOf ? asOf.position : await positionRecordedBy(this.store, asOf.instant);
    const { entries, position } = until ? await replayLedger(this.store, until) : { entries: [], position: undefined };
    return { entries: entries.filter((entry) => matches(entry, filter)), position };
  }
}

/**
 * An as-of answer replays the log from its start on the thread that answers requests. Read there
 * event by event, a 200,000-event log held every other request (`/health` included) for the 3.4 s
 * the replay took. Now the log is read ahead in a thread of its own where the store can, and the
 * replay gives the event loop a turn after each page (`betweenPages`), so other requests are answered
 * while it runs.
 */
const REPLAY_READ = { readAhead: true };
const betweenPages = () => setImmediate();

/**
 * The log as it stood at `instant` (store clock, `recordedAt`): the position of the last event before
 * the first one recorded after the instant; undefined when nothing had been recorded by then.
 * Cutting at the first later event keeps the answer a prefix of the log, which a rebuild can fold.
 */
export async function positionRecordedBy(store: EventStore, instant: string): Promise<LogPosition | undefined> {
  const cutoff = Date.parse(instant);
  let last: LogPosition | undefined;
  for await (const page of readPages(store, REPLAY_READ)) {
    for (const event of page) {
      if (Date.parse(event.recordedAt) > cutoff) return last;
      last = event.position;
    }
    await betweenPages();
  }
  return last;
}

/** Every ledger entry of the log up to `until` (inclusive), folded in memory, in canonical order. */
export async function replayLedger(store: EventStore, until: LogPosition): Promise<LedgerSelection> {
  const partners = new Map<string, string>();
  const entries: PartneredLedgerEntry[] = [];
  let position: LogPosition | undefined;
  replay: for await (const page of readPages(store, REPLAY_READ)) {
    for (const event of page) {
      if (comparePositions(event.position, until) > 0) break replay;
      position = event.position;
      const customer = customerPartnerOf(event);
      if (customer) {
        if (!partners.has(customer.customerId)) partners.set(customer.customerId, customer.partnerId);
        continue;
      }
      entries.push(...partneredLedgerEntriesOf(event, (customerId) => partners.get(customerId)));
    }
    await betweenPages();
  }
  return { entries: entries.sort(compareLedgerEntries), position };
}

function matches(entry: PartneredLedgerEntry, filter: LedgerFilter): boolean {
  return (
    (filter.partnerId === undefined || entry.partnerId === filter.partnerId) &&
    (filter.customerId === undefined || entry.customerId === filter.customerId) &&
    (filter.invoicePeriod === undefined || entry.invoicePeriod === filter.invoicePeriod) &&
    (filter.kind === undefined || entry.kind === filter.kind)
  );
}
