import type { IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import type { LogPosition } from '@csp/event-store';
import type { ReadModelDb } from '../../schema';
import { feedPositionOf, type IntegrationEventsTable } from './integration-events.projection';

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
 * One partner's integration events after a cursor, in feed order (log position, then sequence).
 *
 * @example
 *   const rows = await integrationEventsAfter(db, { partnerId: 'partner-1', after: FEED_START, limit: 100 });
 */
export async function integrationEventsAfter(db: ReadModelDb, filter: IntegrationEventsFilter): Promise<IntegrationEventsTable[]> {
  const [commit, prepare] = [filter.after.commit.toString(), filter.after.prepare.toString()];
  let query = db
    .selectFrom('integration_events')
    .selectAll()
    .where('partner_id', '=', filter.partnerId)
    .where((where) =>
      where.or([
        where('position_commit', '>', commit),
        where.and([where('position_commit', '=', commit), where('position_prepare', '>', prepare)]),
        where.and([where('position_commit', '=', commit), where('position_prepare', '=', prepare), where('sequence', '>', filter.after.sequence)]),
      ]),
    );
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', [...filter.types]);
  if (filter.upTo) {
    const [upToCommit, upToPrepare] = [filter.upTo.commit.toString(), filter.upTo.prepare.toString()];
    query = query.where((where) =>
      where.or([
        where('position_commit', '<', upToCommit),
        where.and([where('position_commit', '=', upToCommit), where('position_prepare', '<=', upToPrepare)]),
      ]),
    );
  }
  const rows = await query.orderBy('position_commit').orderBy('position_prepare').orderBy('sequence').limit(filter.limit).execute();
  return rows.map(withPosition);
}

/** The row with its `position` text, which version 2 of the projection does not store. */
function withPosition(row: IntegrationEventsTable): IntegrationEventsTable {
  return { ...row, position: feedPositionOf(row) };
}

/** One event of a partner's feed by its id. */
export async function integrationEventById(db: ReadModelDb, partnerId: string, id: string): Promise<IntegrationEventsTable | undefined> {
  const row = await db.selectFrom('integration_events').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst();
  return row && withPosition(row);
}
