import {
  TEST_POSTGRES_URL,
  postgresReadModels,
  sqliteReadModels,
  type OpenedReadModels,
} from '@csp/testing/read-model-dialects';
import { PAGE_CACHE_KIB, WalCheckpointer } from '@csp/event-store';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresReadModels, openSqliteReadModels, READ_STORE_PAGE_SIZE, type ReadModelDb, type SqliteReadStoreOptions } from './database';
import { customersProjection } from './projections/customers/customers.projection';
import { ordersProjection } from './projections/orders/orders.projection';
import { subscriptionsProjection } from './projections/subscriptions/subscriptions.projection';
import { CommerceLog, dumpReadModels, projectLog, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';

/** The projections this suite's stores hold, named here so that later projections do not change its expectations. */
const FIRST_PROJECTIONS = [customersProjection, ordersProjection, subscriptionsProjection];

/** The store's own tables (key vault, log binding, webhooks included), each projection's generation 1 with its migration bookkeeping, and the views queries read. */
const READ_MODEL_TABLES = [
  'customers',
  'customers__g1',
  'customers__g1_migrations',
  'customers__g1_migrations_lock',
  'data_keys',
  'issued_key_fingerprints',
  'orders',
  'orders__g1',
  'orders__g1_migrations',
  'orders__g1_migrations_lock',
  'projection_checkpoints',
  'projection_deferred_indexes',
  'projection_generations',
  'projection_unresumable_builds',
  'read_store_log_binding',
  'read_store_migrations',
  'read_store_migrations_lock',
  'subscriptions',
  'subscriptions__g1',
  'subscriptions__g1_migrations',
  'subscriptions__g1_migrations_lock',
  'webhook_deliveries',
  'webhook_endpoints',
];

describe('read models on SQLite and PostgreSQL', () => {
  const opened: OpenedReadModels[] = [];
  let log: CommerceLog;
  let closeLog: () => Promise<void>;

  beforeEach(async () => {
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });

  afterEach(async () => {
    await closeLog();
    for (const store of opened.splice(0)) await store.cleanup();
  });

  it('projects the same log into identical rows, column types included', async () => {
    await writeStandardHistory(log);
    const sqlite = await sqliteReadModels.open();
    const postgres = await postgresReadModels.open();
    opened.push(sqlite, postgres);

    // Different batch sizes on purpose: batching must not change the result either.
    await projectLog(log.store, sqlite.db, 4);
    await projectLog(log.store, postgres.db, 500);

    const fromSqlite = await dumpReadModels(sqlite.db);
    const fromPostgres = await dumpReadModels(postgres.db);
    expect(fromSqlite.customers).toHaveLength(3);
    expect(fromSqlite.orders).toHaveLength(3);
    expect(fromSqlite.subscriptions).toHaveLength(4);
    expect(fromPostgres).toEqual(fromSqlite);
    // toEqual would let 1 and '1' differ, but also confirms no driver turns integers into strings or bigints.
    for (const row of fromPostgres.subscriptions) expect(typeof row.legacy).toBe('number');
    for (const row of fromPostgres.orders) expect(typeof row.pending_fulfilment).toBe('number');
  });
});

describe('openPostgresReadModels', () => {
  const schemas: string[] = [];
  const dbs: ReadModelDb[] = [];
  const newSchema = () => {
    const schema = `csp_rm_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  const open = async (schema: string) => {
    const db = await openPostgresReadModels(TEST_POSTGRES_URL, { schema, maxConnections: 2, projections: FIRST_PROJECTIONS });
    dbs.push(db);
    return db;
  };
  // Only this schema: introspecting every schema races with other suites dropping theirs.
  const tablesIn = async (db: ReadModelDb, schema: string) => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(db);
    return rows.map((row) => row.table_name);
  };

  afterEach(async () => {
    const [first] = dbs;
    for (const schema of schemas.splice(0)) await first?.schema.dropSchema(schema).ifExists().cascade().execute();
    for (const db of dbs.splice(0)) await db.destroy();
  });

  it('creates the schema when missing and migrates the tables into it', async () => {
    const schema = newSchema();
    const db = await open(schema);

    expect(await tablesIn(db, schema)).toEqual(READ_MODEL_TABLES);
    const { rows: columns } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = ${schema} and table_name = 'customers__g1' order by ordinal_position`.execute(db);
    expect(columns.map((column) => column.column_name)).toEqual([
      'id',
      'partner_id',
      'company_name',
      'domain',
      'country',
      'registered_at',
      'domain_key',
      'company_name_key',
    ]);
  });

  it('keeps two schemas in one database apart, and reopening a schema keeps its rows', async () => {
    const [a, b] = [newSchema(), newSchema()];
    const first = await open(a);
    const second = await open(b);
    const row = {
      id: 'c-1',
      partner_id: 'p',
      company_name: 'A',
      domain: 'a.example',
      country: 'DE',
      registered_at: '2025-01-01T00:00:00.000Z',
      domain_key: 'a.example',
      company_name_key: 'a',
    };

    await first.insertInto('customers').values(row).execute();

    expect(await second.selectFrom('customers').selectAll().execute()).toEqual([]);
    const reopened = await open(a);
    expect(await reopened.selectFrom('customers').selectAll().execute()).toEqual([row]);
    // count(*) is a bigint in PostgreSQL and arrives as a string: callers must convert it.
    const { count } = await reopened.selectFrom('customers').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
    expect(Number(count)).toBe(1);
  });

  it('lets several processes open a fresh schema at the same moment: every open succeeds, each table exists once', async () => {
    // api and projector start together on a fresh server: unserialised `CREATE ... IF NOT EXISTS`
    // races on the catalogue (`duplicate key value violates unique constraint "pg_type_typname_nsp_index"`).
    const schema = newSchema();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => open(schema)));

    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const [db] = dbs;
    expect(await tablesIn(db!, schema)).toEqual(READ_MODEL_TABLES);
    const { rows: indexes } = await sql<{ indexname: string }>`
      select indexname from pg_indexes where schemaname = ${schema} and indexname not like '%_pk' and indexname not like '%_pkey'
      order by indexname`.execute(db!);
    expect(indexes.map((index) => index.indexname)).toEqual([
      'customers__g1_domain_key',
      'customers__g1_partner',
      'customers__g1_partner_name_key',
      'orders__g1_customer',
      'orders__g1_pending_fulfilment',
      'subscriptions__g1_customer',
      'subscriptions__g1_due',
      'webhook_deliveries_order',
      'webhook_endpoints_partner',
    ]);
    const generations = await db!.selectFrom('projection_generations').select(['name', 'generation', 'status']).orderBy('name').execute();
    expect(generations.map((row) => ({ ...row, generation: Number(row.generation) }))).toEqual([
      { name: 'customers', generation: 1, status: 'active' },
      { name: 'orders', generation: 1, status: 'active' },
      { name: 'subscriptions', generation: 1, status: 'active' },
    ]);
  });

  it('refuses a schema name that is not a plain identifier, before connecting', async () => {
    await expect(openPostgresReadModels('postgres://nobody@127.0.0.1:1/none', { schema: 'x"; drop table y; --' })).rejects.toThrow(
      RangeError,
    );
    await expect(openPostgresReadModels('postgres://nobody@127.0.0.1:1/none', { schema: 'Public' })).rejects.toThrow(RangeError);
  });

  it('fails loudly when the server cannot be reached', async () => {
    await expect(
      openPostgresReadModels('postgres://postgres@127.0.0.1:1/test', { schema: newSchema(), connectionTimeoutMs: 2000 }),
    ).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});

describe('openSqliteReadModels page cache', () => {
  const cacheSizeOpenedWith = async (options: Pick<SqliteReadStoreOptions, 'pageCacheKib'>) => {
    const dir = await mkdtemp(join(tmpdir(), 'csp-read-cache-'));
    const store = await openSqliteReadModels(join(dir, 'read-models.db'), { projections: FIRST_PROJECTIONS, ...options });
    try {
      const { rows } = await sql<{ cache_size: number }>`PRAGMA cache_size`.execute(store);
      return Number(rows[0]!.cache_size);
    } finally {
      await store.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  };

  it("keeps SQLite's own page cache size on its connection", async () => {
    expect(await cacheSizeOpenedWith({})).toBe(-PAGE_CACHE_KIB);
  });

  it('takes a larger cache when asked (a rebuild)', async () => {
    expect(await cacheSizeOpenedWith({ pageCacheKib: 16_000 })).toBe(-16_000);
  });
});

describe('openSqliteReadModels page size', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csp-read-page-size-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const pageSizeOf = async (store: ReadModelDb) => Number((await sql<{ page_size: number }>`PRAGMA page_size`.execute(store)).rows[0]!.page_size);

  it('creates a new store with READ_STORE_PAGE_SIZE pages', async () => {
    const store = await openSqliteReadModels(join(dir, 'read-models.db'), { projections: FIRST_PROJECTIONS });
    try {
      expect(await pageSizeOf(store)).toBe(READ_STORE_PAGE_SIZE);
      expect(READ_STORE_PAGE_SIZE).not.toBe(4096);
    } finally {
      await store.destroy();
    }
  });

  it('keeps the pages of a store created before, and its rows', async () => {
    const file = join(dir, 'read-models.db');
    const older = new Database(file);
    older.pragma('page_size = 4096');
    older.pragma('journal_mode = WAL');
    older.close();
    const first = await openSqliteReadModels(file, { projections: FIRST_PROJECTIONS });
    await sql`CREATE TABLE kept (text TEXT NOT NULL)`.execute(first);
    await sql`INSERT INTO kept (text) VALUES ('still here')`.execute(first);
    await first.destroy();

    const reopened = await openSqliteReadModels(file, { projections: FIRST_PROJECTIONS });
    try {
      expect(await pageSizeOf(reopened)).toBe(4096);
      expect((await sql<{ text: string }>`SELECT text FROM kept`.execute(reopened)).rows).toEqual([{ text: 'still here' }]);
    } finally {
      await reopened.destroy();
    }
  });
});

describe('openSqliteReadModels write-ahead log checkpoints', () => {
  let dir: string;
  const stores: ReadModelDb[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csp-read-checkpoints-'));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (walCheckpoints: SqliteReadStoreOptions['walCheckpoints']) => {
    const store = await openSqliteReadModels(join(dir, 'read-models.db'), { projections: FIRST_PROJECTIONS, walCheckpoints });
    stores.push(store);
    return store;
  };
  /** About 20 MB in one transaction: past SQLite's threshold of 1,000 pages (16 MB of the store's pages), where a commit would copy them itself. */
  const writeTwentyMegabytes = async (store: ReadModelDb) => {
    await sql`CREATE TABLE IF NOT EXISTS padding (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`.execute(store);
    await store.transaction().execute(async (trx) => {
      for (let row = 0; row < 2000; row++) await sql`INSERT INTO padding (text) VALUES (${'x'.repeat(10_000)})`.execute(trx);
    });
  };
  const fileSize = async () => (await stat(join(dir, 'read-models.db'))).size;

  it('leaves the copy to the store that runs the checkpointer thread, which makes it', async () => {
    const checkpointing = await open({ everyMs: 50 });
    const writer = await open('another-connection');
    const sizeBefore = await fileSize();

    await writeTwentyMegabytes(writer);

    const deadline = Date.now() + 5000;
    while ((await fileSize()) < sizeBefore + 20_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await fileSize()).toBeGreaterThan(sizeBefore + 20_000_000);
    const rows = await sql<{ count: number }>`SELECT count(*) AS count FROM padding`.execute(checkpointing);
    expect(Number(rows.rows[0]!.count)).toBe(2000);
  });

  it('hands the checkpointer thread the interval to sync the write-ahead log at, in pages for the restart threshold', async () => {
    const starts = jest.spyOn(WalCheckpointer, 'start');
    try {
      await open({ everyMs: 250, restartPastBytes: 64 * 1024 * 1024, syncLogEveryMs: 15 });
      expect(starts).toHaveBeenCalledWith(
        expect.objectContaining({ file: join(dir, 'read-models.db'), intervalMs: 250, restartPastFrames: (64 * 1024 * 1024) / READ_STORE_PAGE_SIZE, syncLogEveryMs: 15 }),
      );
    } finally {
      starts.mockRestore();
    }
  });

  it('does not copy in its commits when another connection does', async () => {
    const writer = await open('another-connection');
    const sizeBefore = await fileSize();

    await writeTwentyMegabytes(writer);

    expect(await fileSize()).toBe(sizeBefore);
    expect((await stat(join(dir, 'read-models.db-wal'))).size).toBeGreaterThan(20_000_000);
  });
});
