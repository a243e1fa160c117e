import { positionToString } from '@csp/event-store';
import { CommerceLog, dumpReadModels, projectEvents, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';
import { createUnversionedReadStore } from '@csp/testing/fixtures/unversioned-read-store.fixture';
import { sqliteReadModels, TEST_POSTGRES_URL } from '@csp/testing/read-model-dialects';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { openPostgresReadModels, openSqliteReadModels } from './database';
import { generationRunner } from './projection-runner';
import { ProjectionGenerations } from './projection/projection-generations';
import { customersProjection } from './projections/customers/customers.projection';
import { ordersProjection } from './projections/orders/orders.projection';
import { subscriptionsProjection } from './projections/subscriptions/subscriptions.projection';
import type { ReadModelDb } from './schema';

const FIRST_PROJECTIONS = [customersProjection, ordersProjection, subscriptionsProjection];

/** A store laid out by the code before this change, on one dialect: raw access to it, and how to open it with today's code. */
interface OldStore {
  raw: Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  openWithTodaysCode: () => Promise<ReadModelDb>;
  cleanup: () => Promise<void>;
}

const dialects: Array<{ name: string; create: () => Promise<OldStore> }> = [
  {
    name: 'sqlite',
    async create() {
      const dir = await mkdtemp(join(tmpdir(), 'csp-old-store-'));
      const file = join(dir, 'read-models.db');
      const raw = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
      return {
        raw,
        openWithTodaysCode: () => openSqliteReadModels(file, { projections: FIRST_PROJECTIONS }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      const schema = `csp_old_${randomBytes(6).toString('hex')}`;
      const raw = new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new Pool({ connectionString: TEST_POSTGRES_URL, max: 2, options: `-c search_path=${schema}` }) }),
      });
      await raw.schema.createSchema(schema).execute();
      return {
        raw,
        openWithTodaysCode: () => openPostgresReadModels(TEST_POSTGRES_URL, { schema, maxConnections: 2, projections: FIRST_PROJECTIONS }),
        cleanup: async () => {
          const cleaner = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: TEST_POSTGRES_URL, max: 1 }) }) });
          await cleaner.schema.dropSchema(schema).ifExists().cascade().execute();
          await cleaner.destroy();
        },
      };
    },
  },
];

describe.each(dialects)('a read store written before projections became units, on $name', ({ create }) => {
  let old: OldStore;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;
  const opened: ReadModelDb[] = [];

  beforeEach(async () => {
    old = await create();
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.destroy();
    await old.raw.destroy();
    await old.cleanup();
    await closeLog();
  });

  it('migrates forward: every row kept, the shared checkpoint becomes each projection’s, and folding goes on from there', async () => {
    await writeStandardHistory(log);
    const history = await log.allEvents();
    // What the old code's projection wrote: the same rows the projections fold today, in the old tables.
    const reference = await sqliteReadModels.open();
    await projectEvents(reference.db, history, FIRST_PROJECTIONS);
    const { checkpoints: _, ...expectedRows } = await dumpReadModels(reference.db);
    await reference.cleanup();
    await createUnversionedReadStore(old.raw);
    // The old tables had no lookup keys: what the old code wrote is the rows without them.
    for (const row of expectedRows.customers) {
      const { domain_key: _domainKey, company_name_key: _nameKey, ...oldColumns } = row;
      await old.raw.insertInto('customers').values(oldColumns).execute();
    }
    for (const table of ['orders', 'subscriptions'] as const) {
      for (const row of expectedRows[table]) await old.raw.insertInto(table).values(row).execute();
    }
    const oldPosition = positionToString(history.at(-1)!.position);
    await old.raw.insertInto('projection_checkpoints').values({ name: 'read-models', position: oldPosition, updated_at: '2026-11-30T00:00:00.000Z' }).execute();

    const db = await old.openWithTodaysCode();
    opened.push(db);

    const { checkpoints, ...rows } = await dumpReadModels(db);
    // Adopted rows keep every old column; the lookup keys a later customers version added start
    // empty (that version rebuilds its own generation from the log at the next start).
    expect(rows.customers).toEqual(expectedRows.customers.map((row) => ({ ...row, domain_key: '', company_name_key: '' })));
    expect(rows.orders).toEqual(expectedRows.orders);
    expect(rows.subscriptions).toEqual(expectedRows.subscriptions);
    expect(checkpoints).toEqual([
      { name: 'customers@g1', position: oldPosition },
      { name: 'orders@g1', position: oldPosition },
      { name: 'subscriptions@g1', position: oldPosition },
    ]);
    const generations = await new ProjectionGenerations(db).list();
    expect(generations).toEqual(FIRST_PROJECTIONS.map(({ name }) => ({ name, generation: 1, version: 1, status: 'active' })));

    // Reopening runs nothing twice; a runner resumes after the old checkpoint and folds only what is new.
    const reopened = await old.openWithTodaysCode();
    opened.push(reopened);
    const customer = await log.registerCustomer({ at: '2026-01-05T09:00:00.000Z', companyName: 'Nach der Migration GmbH' });
    for (const projection of FIRST_PROJECTIONS) {
      const runner = generationRunner(log.store, db, projection, { name: projection.name, generation: 1 });
      await runner.start();
      await runner.stop();
    }
    const after = await dumpReadModels(db);
    expect(after.customers).toHaveLength(expectedRows.customers.length + 1);
    expect(after.customers.map((row) => row.id)).toContain(customer.customerId);
    expect(after.orders).toEqual(expectedRows.orders);
    expect(after.subscriptions).toEqual(expectedRows.subscriptions);
  });

  it('adopts old tables that were never folded into (an empty log), without a checkpoint', async () => {
    await createUnversionedReadStore(old.raw);

    const db = await old.openWithTodaysCode();
    opened.push(db);

    expect(await dumpReadModels(db)).toEqual({ customers: [], orders: [], subscriptions: [], checkpoints: [] });
    const { rows } = await sql<{ n: number }>`select count(*) as n from projection_generations where status = 'active'`.execute(db);
    expect(Number(rows[0]!.n)).toBe(3);
  });
});
