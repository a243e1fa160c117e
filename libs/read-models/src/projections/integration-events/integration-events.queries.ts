import {
  feedSequenceOfLedgerEntry,
  integrationEventsOf,
  ledgerEntryIdOf,
  ledgerEntryRecorded,
  type IntegrationEventType,
  type MappedIntegrationEvent,
} from '@csp/domain/integration-events/integration-event';
import { comparePositions, positionToString, type EventStore, type LogPosition, type RecordedEvent } from '@csp/event-store';
import { sql } from 'kysely';
import { readActiveCheckpoints } from '../../active-checkpoints';
import type { ReadModelDb } from '../../schema';
import { ledgerEntriesOfRow, ledgerProjection, ledgerRowIdsHolding, type LedgerEntriesTable } from '../ledger/ledger.projection';
import { feedPositionOf, integrationEventsProjection, type IntegrationEventsTable } from './integration-events.projection';
import { storedEventData } from './stored-event-data';

/**
 * A place in the integration-event feed: a log position and the place among the events of that
 * position's source event. Events strictly after it come next.
 */
export interface FeedCursor {
  commit: bigint;
  prepare: bigint;
  sequence: number;
}

/** Greater than any event's `sequence`: one source event never yields this many integration events. */
const PAST_EVERY_SEQUENCE = 2_147_483_647;

/** Before the first event of the log. */
export const FEED_START: FeedCursor = { commit: -1n, prepare: -1n, sequence: PAST_EVERY_SEQUENCE };

/** After every event of the source event at `position`. */
export function cursorAfterPosition(position: LogPosition): FeedCursor {
  return { commit: position.commit, prepare: position.prepare, sequence: PAST_EVERY_SEQUENCE };
}

/** Right after one event of the feed. */
export function cursorAtRow(row: Pick<IntegrationEventsTable, 'position_commit' | 'position_prepare' | 'sequence'>): FeedCursor {
  return { commit: BigInt(row.position_commit), prepare: BigInt(row.position_prepare), sequence: Number(row.sequence) };
}

/** The log the feed was folded from, where its rows' source events are read again. */
export type FeedSourceLog = Pick<EventStore, 'readAll'>;

export interface IntegrationEventsFilter {
  partnerId: string;
  after: FeedCursor;
  /** Only these types; every type when absent or empty. */
  types?: readonly IntegrationEventType[];
  limit: number;
  /** Only events at or before this position (a page completes the events of its last position). */
  upTo?: LogPosition;
}

/**
 * One partner's integration events after a cursor, in feed order (log position, then sequence): the
 * feed's own rows and, made from the ledger's entries, the `ledger.entry_recorded` events, which the
 * feed does not store. Only events at or before the position both projections have folded are
 * listed, so a consumer that resumes after the last one it saw never skips one the slower of the two
 * adds later.
 *
 * @example
 *   const rows = await integrationEventsAfter(db, store, { partnerId: 'partner-1', after: FEED_START, limit: 100 });
 */
export async function integrationEventsAfter(db: ReadModelDb, log: FeedSourceLog, filter: IntegrationEventsFilter): Promise<IntegrationEventsTable[]> {
  const folded = await foldedByFeedAndLedger(db);
  if (folded === undefined) return [];
  const upTo = filter.upTo !== undefined && comparePositions(filter.upTo, folded) < 0 ? filter.upTo : folded;
  const types = filter.types ?? [];
  const storedTypes = types.filter((type) => type !== LEDGER_EVENT);
  const [stored, ledger] = await Promise.all([
    types.length === 0 || storedTypes.length > 0 ? storedEventsAfter(db, { ...filter, types: storedTypes, upTo }) : [],
    types.length === 0 || types.includes(LEDGER_EVENT) ? ledgerEventsAfter(db, { ...filter, upTo }) : [],
  ]);
  return withSourceData(log, inFeedOrder(stored, ledger).slice(0, filter.limit));
}

const LEDGER_EVENT = 'ledger.entry_recorded';

/** Where both the feed and the ledger stand: undefined while either has folded nothing. */
async function foldedByFeedAndLedger(db: ReadModelDb): Promise<LogPosition | undefined> {
  const checkpoints = await readActiveCheckpoints(db);
  const [feed, ledger] = [checkpoints.get(integrationEventsProjection.name), checkpoints.get(ledgerProjection.name)];
  if (feed === undefined || ledger === undefined) return undefined;
  return comparePositions(feed, ledger) <= 0 ? feed : ledger;
}

interface BoundedFilter extends IntegrationEventsFilter {
  upTo: LogPosition;
}

async function storedEventsAfter(db: ReadModelDb, filter: BoundedFilter): Promise<IntegrationEventsTable[]> {
  const [commit, prepare] = [filter.after.commit.toString(), filter.after.prepare.toString()];
  let query = db
    .selectFrom('integration_events')
    .selectAll()
    .where('partner_id', '=', filter.partnerId)
    // Implied by the cursor's condition below; stated, it gives the index a range to seek (with
    // `atOrBefore`'s end) instead of the partner's whole feed to walk.
    .where('position_commit', '>=', commit)
    .where((where) =>
      where.or([
        where('position_commit', '>', commit),
        where.and([where('position_commit', '=', commit), where('position_prepare', '>', prepare)]),
        where.and([where('position_commit', '=', commit), where('position_prepare', '=', prepare), where('sequence', '>', filter.after.sequence)]),
      ]),
    )
    .where(atOrBefore(filter.upTo));
  // A generation of version 2 or before, answering while version 3 is built, still holds the
  // ledger's events: they are answered from the ledger alone, as they are once it is replaced.
  query = filter.types && filter.types.length > 0 ? query.where('type', 'in', [...filter.types]) : query.where('type', '!=', LEDGER_EVENT);
  const rows = await query.orderBy('position_commit').orderBy('position_prepare').orderBy('sequence').limit(filter.limit).execute();
  return rows.map(withPosition);
}

/**
 * The partner's ledger entries after the cursor, as feed rows. Entries of one source event share its
 * position; `<id>:<n>` ordered by length, then text, is their order `n`, and a row holding several
 * holds consecutive ones. Each row holds at least one entry, so as many rows as the page holds
 * events after the cursor's position are enough.
 */
async function ledgerEventsAfter(db: ReadModelDb, filter: BoundedFilter): Promise<IntegrationEventsTable[]> {
  const [commit, prepare] = [filter.after.commit.toString(), filter.after.prepare.toString()];
  const entries = db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('partner_id', '=', filter.partnerId)
    .where('position_commit', '>=', commit)
    .where(atOrBefore(filter.upTo));
  const atCursor =
    filter.after.sequence === PAST_EVERY_SEQUENCE
      ? []
      : await entries
          .where('position_commit', '=', commit)
          .where('position_prepare', '=', prepare)
          .orderBy(sql`length(id)`)
          .orderBy('id')
          .execute();
  const later = await entries
    .where((where) => where.or([where('position_commit', '>', commit), where.and([where('position_commit', '=', commit), where('position_prepare', '>', prepare)])]))
    .orderBy('position_commit')
    .orderBy('position_prepare')
    .orderBy(sql`length(id)`)
    .orderBy('id')
    .limit(filter.limit)
    .execute();
  return [...atCursor.flatMap(feedRowsOfLedgerRow).filter((row) => row.sequence > filter.after.sequence), ...later.flatMap(feedRowsOfLedgerRow)];
}

/**
 * At or before `upTo`, on the position columns both the feed's rows and the ledger's entries have;
 * its first term is the end of the range an index on the partner and the position seeks.
 */
function atOrBefore(upTo: LogPosition) {
  const [commit, prepare] = [upTo.commit.toString(), upTo.prepare.toString()];
  return sql<boolean>`(position_commit <= ${commit} and (position_commit < ${commit} or position_prepare <= ${prepare}))`;
}

/** The entries of a ledger row as the feed rows of their `ledger.entry_recorded` events. */
function feedRowsOfLedgerRow(row: LedgerEntriesTable): IntegrationEventsTable[] {
  const position = feedPositionOf(row);
  return ledgerEntriesOfRow(row).map((entry) => {
    const event = ledgerEntryRecorded(entry);
    return {
      id: event.id,
      partner_id: row.partner_id,
      tenant: event.tenant,
      type: event.type,
      occurred_at: event.occurredAt,
      position,
      position_commit: row.position_commit,
      position_prepare: row.position_prepare,
      sequence: feedSequenceOfLedgerEntry(entry),
      data: storedEventData(event.type, event.data),
    };
  });
}

function inFeedOrder(stored: IntegrationEventsTable[], ledger: IntegrationEventsTable[]): IntegrationEventsTable[] {
  if (ledger.length === 0) return stored;
  if (stored.length === 0) return ledger;
  return [...stored, ...ledger].sort(compareFeedRows);
}

function compareFeedRows(a: IntegrationEventsTable, b: IntegrationEventsTable): number {
  const byPosition = comparePositions(
    { commit: BigInt(a.position_commit), prepare: BigInt(a.position_prepare) },
    { commit: BigInt(b.position_commit), prepare: BigInt(b.position_prepare) },
  );
  return byPosition !== 0 ? byPosition : Number(a.sequence) - Number(b.sequence);
}

/** The row with its `position` text, which version 2 of the projection does not store. */
function withPosition(row: IntegrationEventsTable): IntegrationEventsTable {
  return { ...row, position: feedPositionOf(row) };
}

/** One event of a partner's feed by its id. */
export async function integrationEventById(db: ReadModelDb, log: FeedSourceLog, partnerId: string, id: string): Promise<IntegrationEventsTable | undefined> {
  const entryId = ledgerEntryIdOf(id);
  if (entryId !== undefined) {
    const rowIds = ledgerRowIdsHolding(entryId);
    if (rowIds.length === 0) return undefined;
    const rows = await db.selectFrom('ledger_entries').selectAll().where('partner_id', '=', partnerId).where('id', 'in', rowIds).execute();
    return rows.flatMap(feedRowsOfLedgerRow).find((row) => row.id === id);
  }
  const row = await db.selectFrom('integration_events').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const [withData] = await withSourceData(log, [withPosition(row)]);
  return withData;
}

/** Source events read at once: a page of the feed reads at most this many positions of the log in parallel. */
const SOURCE_READS_AT_ONCE = 32;

/**
 * The rows whole: a row of version 4 keeps no `data`, one of version 5 neither its tenant nor its
 * instant, and each gets them from its source event, read from the log at the row's position and
 * mapped as the fold mapped it (`feedEventsOf`); rows of earlier versions keep theirs. The log is
 * append-only, so the same row always gets the same event.
 */
async function withSourceData(log: FeedSourceLog, rows: IntegrationEventsTable[]): Promise<IntegrationEventsTable[]> {
  const positions = [...new Set(rows.filter((row) => row.data === '').map(feedPositionOf))];
  if (positions.length === 0) return rows;
  const sources = new Map<string, RecordedEvent>();
  for (let start = 0; start < positions.length; start += SOURCE_READS_AT_ONCE) {
    const read = await Promise.all(positions.slice(start, start + SOURCE_READS_AT_ONCE).map((position) => sourceEventAt(log, position)));
    for (const source of read) sources.set(positionToString(source.position), source);
  }
  return rows.map((row) => (row.data === '' ? { ...row, ...eventFromSource(row, sources.get(feedPositionOf(row))!) } : row));
}

async function sourceEventAt(log: FeedSourceLog, position: string): Promise<RecordedEvent> {
  const [commit, prepare] = position.split('.').map(BigInt) as [bigint, bigint];
  for await (const event of log.readAll({ fromPosition: { commit, prepare }, maxCount: 1 })) {
    if (positionToString(event.position) === position) return event;
    break;
  }
  throw new FeedSourceMissingError(position);
}

/**
 * The public events the feed lists for one source event, in their `sequence` order: what
 * `integrationEventsOf` derives but the ledger's entries, which come last (see
 * `feedSequenceOfLedgerEntry`), so the others keep their sequence. The fold stores where each one is
 * (`integrationEventPlacesOf`); a reader makes each again whole from the same source event.
 */
function feedEventsOf(recorded: RecordedEvent): MappedIntegrationEvent[] {
  const mapped = integrationEventsOf({ type: recorded.type, data: recorded.data }, { eventId: recorded.id, position: positionToString(recorded.position) });
  return mapped.filter(({ event }) => event.type !== 'ledger.entry_recorded');
}

/** The row's event made again from its source event: it must be the event the fold stored, id and all. */
function eventFromSource(row: IntegrationEventsTable, source: RecordedEvent): Pick<IntegrationEventsTable, 'tenant' | 'occurred_at' | 'data'> {
  const mapped = feedEventsOf(source)[Number(row.sequence)];
  if (mapped?.event.id !== row.id) throw new FeedSourceMissingError(feedPositionOf(row), row.id);
  const { tenant, occurredAt, data } = mapped.event;
  return { tenant, occurred_at: occurredAt, data: JSON.stringify(data) };
}

/**
 * A feed row whose source event the log does not hold (or holds as another event): the read store
 * was folded from another log than the one the service reads. Nothing is answered from it.
 */
export class FeedSourceMissingError extends Error {
  constructor(
    readonly position: string,
    readonly eventId?: string,
  ) {
    super(
      eventId === undefined
        ? `the integration-event feed's source event at log position ${position} is not in the log`
        : `the log's event at position ${position} does not make the feed's event ${eventId}`,
    );
    this.name = 'FeedSourceMissingError';
  }
}
