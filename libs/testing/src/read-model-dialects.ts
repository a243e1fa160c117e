import { openPostgresReadModels, openSqliteReadModels, type ReadModelDb } from '@csp/read-models';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_POSTGRES_URL } from './test-postgres-url';

export interface OpenedReadModels {
  db: ReadModelDb;
  /** Another connection (pool) to the same store, e.g. to play a second process; `cleanup` closes it. */
  connectAgain: () => Promise<ReadModelDb>;
  /** Destroys the connection and removes everything `open` created (file or schema). */
  cleanup: () => Promise<void>;
}

export interface ReadModelDialect {
  name: 'sqlite' | 'postgres';
  /** A fresh, migrated, empty read store of its own. */
  open: () => Promise<OpenedReadModels>;
}

/** The database the PostgreSQL suite uses; each `open` works in its own schema inside it. */
export { TEST_POSTGRES_URL };

export const sqliteReadModels: ReadModelDialect = {
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'csp-read-models-'));
    const file = join(dir, 'read-models.db');
    const db = await openSqliteReadModels(file);
    const others: ReadModelDb[] = [];
    return {
      db,
      connectAgain: async () => {
        const other = await openSqliteReadModels(file);
        others.push(other);
        return other;
      },
      cleanup: async () => {
        for (const other of others) await other.destroy();
        await db.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * PostgreSQL is always there for the int suites (locally and in CI), so an unreachable server
 * fails the tests with the reason instead of skipping them.
 */
export const postgresReadModels: ReadModelDialect = {
  name: 'postgres',
  async open() {
    const schema = `csp_rm_${randomBytes(6).toString('hex')}`;
    const connect = () => openPostgresReadModels(TEST_POSTGRES_URL, { schema, maxConnections: 4, connectionTimeoutMs: 5000 });
    let db: ReadModelDb;
    try {
      db = await connect();
    } catch (error) {
      throw new Error(
        `PostgreSQL read models at ${TEST_POSTGRES_URL} could not be opened (set TEST_POSTGRES_URL): ${String(error)}`,
        { cause: error },
      );
    }
    const others: ReadModelDb[] = [];
    return {
      db,
      connectAgain: async () => {
        const other = await connect();
        others.push(other);
        return other;
      },
      cleanup: async () => {
        try {
          for (const other of others) await other.destroy();
          await db.schema.dropSchema(schema).ifExists().cascade().execute();
        } finally {
          await db.destroy();
        }
      },
    };
  },
};

/**
 * Every real dialect the read models run on, for `describe.each`: the same suite against each.
 *
 * @example
 *   describe.each(readModelDialects)('projection on $name', (dialect) => {
 *     let opened: OpenedReadModels;
 *     beforeEach(async () => { opened = await dialect.open(); });
 *     afterEach(() => opened.cleanup());
 *   });
 */
export const readModelDialects: readonly ReadModelDialect[] = [sqliteReadModels, postgresReadModels];
