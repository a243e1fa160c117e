import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, sql } from 'kysely';
import { openSqliteConnection, WalCheckpointer } from '@csp/event-store';
import { CurrentSchemaPostgresDialect } from './current-schema.introspector';
import { ReadStoreSqliteDialect } from './read-store-sqlite.dialect';
import type { AnyProjection } from './projection/projection-definition';
import { ProjectionGenerations } from './projection/projection-generations';
import { projectionRegistry } from './projections/registry';
import { withStatementCache } from './sqlite-statement-cache';
import type { ReadModelDb, ReadModelSchema } from './schema';
import { migrationTableSchema, STORE_MIGRATION_TABLES, storeMigrations } from './store-migrations';


export interface ReadStoreOptions {
  /** The projections whose tables the store must hold; the registry unless a test says otherwise. */
  projections?: readonly AnyProjection[];
}

/**
 * Runs the store's migrations, then gives every projection an active generation (tables and views).
 * A store written by older code migrates forward with its rows.
 */
async function prepareReadStore(db: ReadModelDb, projections: readonly AnyProjection[]): Promise<void> {
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: { getMigrations: async () => storeMigrations },
    ...STORE_MIGRATION_TABLES,
    ...(await migrationTableSchema(db as Kysely<unknown>)),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  await new ProjectionGenerations(db).ensureActive(projections);
}

/**
 * Opens (and migrates) the read store on a SQLite file. Read models are derived from the log, so
 * `synchronous=NORMAL` is enough: whatever a power cut loses is behind the checkpoint and is folded again.
 *
 * @example
 *   const db = await openSqliteReadModels(join(dataDir, 'read-models.db'));
 */
export interface SqliteReadStoreOptions extends ReadStoreOptions {
  /**
   * Who copies the write-ahead log into the file: `on-commit` (default), the commit that crosses
   * SQLite's threshold; `{ everyMs }`, a checkpointer thread this store starts (see
   * `WalCheckpointer`, also for `restartWaitMs` and `syncLogEveryMs`); `another-connection`, neither: a store on the same
   * file opened with `{ everyMs }` does it (the projection worker's, beside the service's). With
   * `writerGivesWay`, a backlog folded through `foldHistory` lets the log be started over between two
   * of its transactions (see `WalCheckpointer.giveWay`).
   */
  walCheckpoints?:
    | 'on-commit'
    | 'another-connection'
    | { everyMs: number; restartWaitMs?: number; restartPastBytes?: number; syncLogEveryMs?: number; writerGivesWay?: boolean };
  /** The connection's page cache in KiB (see `PAGE_CACHE_KIB`, the default). */
  pageCacheKib?: number;
}

const BUSY_TIMEOUT_MS = 5000;

/**
 * The page size of a read store created from now on (SQLite's default is 4 KiB; a store created
 * before keeps the size it has, which SQLite fixes when a file in WAL mode is created). A
 * subscription row holds its folded state as JSON, 3 to 4 KB: on 4 KiB pages most spill into an
 * overflow page, and each leaf holds one row. On a real 1M-event log, every projection rebuilt:
 * 47.6 to 53.1 s on 4 KiB pages (four runs), 40.7 to 48.9 s on 8 KiB (seven), 37.9 / 38.3 / 40.3 s on 16 KiB,
 * 38.1 s on 32 KiB with the rebuild's resident memory at 246 MiB (136, 152 and 183 MiB for the
 * others: its page cache holds as many KiB, in fewer, larger pages). Not 16 KiB: the service's
 * projection worker commits a few rows at a time, each commit writes whole pages, and the benchmark's
 * service answered 1,551 and 1,706 purchases/s on 16 KiB against 1,964 and 1,998 on 8 KiB and 1,980
 * on 4 KiB (single runs in one hour).
 */
export const READ_STORE_PAGE_SIZE = 8192;

/** The checkpointer each SQLite store opened here started, for `giveWayToCheckpoints`. */
const checkpointersOf = new WeakMap<ReadModelDb, WalCheckpointer>();

/**
 * Called between two write transactions of a long run of them: lets the store's checkpointer start
 * its write-ahead log over if it is waiting to (`writerGivesWay`). Resolves at once for any other store.
 */
export function giveWayToCheckpoints(db: ReadModelDb): Promise<void> {
  return checkpointersOf.get(db)?.giveWay() ?? Promise.resolve();
}

export async function openSqliteReadModels(filePath: string, options: SqliteReadStoreOptions = {}): Promise<ReadModelDb> {
  mkdirSync(dirname(filePath), { recursive: true, mode: 0o700 });
  const database = openSqliteConnection(filePath, { pageCacheKib: options.pageCacheKib });
  chmodSync(filePath, 0o600);
  database.pragma(`page_size = ${READ_STORE_PAGE_SIZE}`);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const checkpoints = options.walCheckpoints ?? 'on-commit';
  if (checkpoints !== 'on-commit') database.pragma('wal_autocheckpoint = 0');
  const checkpointer =
    typeof checkpoints === 'object'
      ? WalCheckpointer.start({
          file: filePath,
          intervalMs: checkpoints.everyMs,
          ...(checkpoints.restartWaitMs !== undefined ? { restartWaitMs: checkpoints.restartWaitMs } : {}),
          ...(checkpoints.restartPastBytes !== undefined
            ? { restartPastFrames: Math.ceil(checkpoints.restartPastBytes / Number(database.pragma('page_size', { simple: true }))) }
            : {}),
          ...(checkpoints.syncLogEveryMs !== undefined ? { syncLogEveryMs: checkpoints.syncLogEveryMs } : {}),
          ...(checkpoints.writerGivesWay ? { writerGivesWay: true } : {}),
          busyTimeoutMs: BUSY_TIMEOUT_MS,
          onFailure: (message) => process.emitWarning(`the checkpoint of ${filePath} failed (tried again at the next interval): ${message}`),
        })
      : undefined;
  const cached = withStatementCache(database);
  // Kysely closes synchronously; whichever connection closes last copies what the write-ahead log still holds.
  const sqlite = checkpointer ? { ...cached, close: () => (void checkpointer.stop(), cached.close()) } : cached;
  const db = new Kysely<ReadModelSchema>({ dialect: new ReadStoreSqliteDialect({ database: sqlite }) });
  if (checkpointer) checkpointersOf.set(db, checkpointer);
  try {
    await prepareReadStore(db, options.projections ?? projectionRegistry);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

export interface PostgresReadModelsOptions extends ReadStoreOptions {
  /**
   * The PostgreSQL schema that holds the read-model tables; created when missing. Absent: the
   * server's default `search_path` (usually `public`). Lower-case letters, digits and `_` only.
   */
  schema?: string;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing. Default 10 000 ms, so an unreachable server fails loudly. */
  connectionTimeoutMs?: number;
}

/** Unquoted PostgreSQL identifier, so it can go into `search_path` and DDL without escaping. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * First half of the advisory lock key that serialises opening the read models; the second half is
 * `hashtext(schema)`, so stores in different schemas do not wait for each other. The two-`int4`
 * form of `pg_advisory_lock` keeps clear of locks other code takes with a single `bigint` key.
 */
const READ_MODELS_LOCK = sql`hashtext('csp-read-models')`;

/**
 * Opens (and migrates) the read store on PostgreSQL.
 *
 * The schema is chosen through each connection's `search_path`, not Kysely's `withSchema`: the
 * projection and the query handlers keep unqualified table names, so the very same Kysely code
 * runs on SQLite (which has no schemas), and PostgreSQL's `CREATE INDEX` (whose name must not be
 * schema-qualified) needs no special case. Several stores can share one database, one schema each.
 *
 * @example
 *   const db = await openPostgresReadModels('postgres://postgres@127.0.0.1:5432/test', { schema: 'csp_rm_1a2b' });
 */
export async function openPostgresReadModels(
  connectionString: string,
  options: PostgresReadModelsOptions = {},
): Promise<ReadModelDb> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new RangeError(`Read-model schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  }
  // Loaded only here: a service on the embedded SQLite read store never carries the PostgreSQL driver.
  const { Pool } = require('pg') as typeof import('pg');
  const pool = new Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    // Only the given schema: a missing table must fail, not silently resolve to one in `public`.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  const db = new Kysely<ReadModelSchema>({ dialect: new CurrentSchemaPostgresDialect({ pool }) });
  try {
    // Several processes (api, projector) may open the same store on a fresh server at the same
    // moment. `CREATE ... IF NOT EXISTS` is not safe against itself (both see a name missing and
    // the slower one fails on a catalogue unique index), and two first starts would both create
    // generation 1 of a projection. So one connection takes a session advisory lock per schema
    // and does all of it; whoever waited finds everything in place.
    await db.connection().execute(async (connection) => {
      const lockedSchema = sql`coalesce(${schema ?? null}::text, current_schema(), '')`;
      await sql`select pg_advisory_lock(${READ_MODELS_LOCK}, hashtext(${lockedSchema}))`.execute(connection);
      try {
        if (schema !== undefined) {
          await connection.schema.createSchema(schema).ifNotExists().execute();
          // An `options` parameter in the connection string would replace ours: refuse rather than
          // migrate into whatever schema the server picks.
          const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(connection);
          if (rows[0]?.schema !== schema) {
            throw new Error(`Read models expected schema ${schema}, the connection uses ${String(rows[0]?.schema)}`);
          }
        }
        await prepareReadStore(connection, options.projections ?? projectionRegistry);
      } finally {
        await sql`select pg_advisory_unlock(${READ_MODELS_LOCK}, hashtext(${lockedSchema}))`.execute(connection);
      }
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
export type { ReadModelDb } from './schema';
