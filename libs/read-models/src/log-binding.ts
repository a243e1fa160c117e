import { comparePositions, positionFromString, type LogPosition } from '@csp/event-store';
import { sql, type Kysely } from 'kysely';
import type { ReadModelDb } from './schema';

/**
 * Which event log a read store folds: the log's identity, recorded when the store first folds it and
 * again by `projections rebuild --all`. A store bound to another log, or whose checkpoints stand past
 * the head of its log, holds rows that log does not explain and must not answer.
 */
export async function createLogBindingTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('read_store_log_binding')
    .ifNotExists()
    .addColumn('singleton', 'integer', (column) => column.primaryKey())
    .addColumn('log_id', 'text', (column) => column.notNull())
    .addColumn('bound_at', 'text', (column) => column.notNull())
    .execute();
}

/** The identity of the log this store folds, or undefined for a store that has not folded one yet. */
export async function boundLogIdentity(db: ReadModelDb): Promise<string | undefined> {
  const { rows } = await sql<{ log_id: string }>`select log_id from read_store_log_binding where singleton = 1`.execute(db);
  return rows[0]?.log_id;
}

/**
 * Records that the store folds the log `logId` from now on.
 *
 * @example
 *   await bindToLog(db, await logIntegrityOf(store)!.logIdentity());
 */
export async function bindToLog(db: ReadModelDb, logId: string, now = new Date().toISOString()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from read_store_log_binding where singleton = 1`.execute(trx);
    await sql`insert into read_store_log_binding (singleton, log_id, bound_at) values (1, ${logId}, ${now})`.execute(trx);
  });
}

/** The furthest position any checkpoint in the store (every generation, building or active) has folded. */
export async function furthestCheckpoint(db: ReadModelDb): Promise<{ name: string; position: LogPosition } | undefined> {
  const rows = await db.selectFrom('projection_checkpoints').select(['name', 'position']).execute();
  let furthest: { name: string; position: LogPosition } | undefined;
  for (const row of rows) {
    const position = positionFromString(row.position);
    if (position && (!furthest || comparePositions(position, furthest.position) > 0)) furthest = { name: row.name, position };
  }
  return furthest;
}
