import {
  ordersProjection,
  ProjectionGenerations,
  projectionRegistry,
  type AnyProjection,
  type ProjectionGeneration,
  type ReadModelDb,
} from '@csp/read-models';
import { CommerceLog, projectLog, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';
import { postgresReadModels, sqliteReadModels, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { sql } from 'kysely';
import { ProjectionOperations } from './projection-operations';

/** Every index of the projections' generation tables, as `<table>__g*: <definition>`, so two generations compare. */
async function sqliteIndexes(db: ReadModelDb, generations?: readonly ProjectionGeneration[]): Promise<string[]> {
  const { rows } = await sql<{ tbl_name: string; sql: string | null; name: string }>`
    select tbl_name, name, sql from sqlite_master where type = 'index' and tbl_name like '%\\_\\_g%' escape '\\'`.execute(db);
  const wanted = generations?.map(({ name, generation }) => ({ generation, tables: projectionRegistry.find((projection) => projection.name === name)!.tables }));
  return rows
    .filter((row) => !wanted || wanted.some(({ generation, tables }) => tables.some((table) => row.tbl_name === `${table}__g${generation}`)))
    .map((row) => `${row.tbl_name}: ${row.sql ?? `(constraint) ${row.name}`}`.replace(/__g\d+/g, '__g*'))
    .sort();
}

const deferredRows = (db: ReadModelDb) => db.selectFrom('projection_deferred_indexes').selectAll().execute();

describe('secondary indexes deferred while a generation is folded from zero, on SQLite', () => {
  let opened: OpenedReadModels;
  let db: ReadModelDb;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;

  beforeEach(async () => {
    opened = await sqliteReadModels.open();
    db = opened.db;
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });
  afterEach(async () => {
    await closeLog();
    await opened.cleanup();
  });

  it('a rebuild folds without them and ends with every index the migrations make, none left deferred, the same rows', async () => {
    await writeStandardHistory(log);
    await projectLog(log.store, db);
    const generations = new ProjectionGenerations(db);
    const indexesMadeByMigrations = await sqliteIndexes(db, await generations.list());
    const plainOnes = indexesMadeByMigrations.filter((index) => /: create index /i.test(index));
    expect(plainOnes.length).toBeGreaterThanOrEqual(10);
    const ledgerBefore = await db.selectFrom('ledger_entries').selectAll().orderBy('id').execute();
    const reader = await opened.connectAgain();
    const seenWhileFolding: Promise<string[]>[] = [];
    const indexProgress: number[] = [];

    await new ProjectionOperations(log.store, db, projectionRegistry).rebuildTogether(
      projectionRegistry.map(({ name }) => name),
      {
        batchSize: 5,
        onProgress: () => void seenWhileFolding.push(generations.buildingWithProgress().then((building) => sqliteIndexes(reader, building))),
        onIndexProgress: ({ built, total }) => {
          expect(total).toBe(plainOnes.length);
          indexProgress.push(built);
        },
      },
    );

    expect(seenWhileFolding.length).toBeGreaterThan(1);
    for (const seen of await Promise.all(seenWhileFolding)) {
      expect(seen).toEqual(indexesMadeByMigrations.filter((index) => !plainOnes.includes(index)));
    }
    expect(indexProgress.at(-1)).toBe(plainOnes.length);
    const active = await generations.list();
    expect(active.every((generation) => generation.generation === 2 && generation.status === 'active')).toBe(true);
    expect(await sqliteIndexes(db, active)).toEqual(indexesMadeByMigrations);
    expect(await deferredRows(db)).toEqual([]);
    expect(await db.selectFrom('ledger_entries').selectAll().orderBy('id').execute()).toEqual(ledgerBefore);
  });

  it('a build left with its indexes deferred (its rebuild killed before it built them) gets them when activated', async () => {
    const generations = new ProjectionGenerations(db);
    const made = await sqliteIndexes(db, [(await generations.active('orders'))!]);
    const fresh = await generations.create(ordersProjection);

    expect(await generations.deferSecondaryIndexes(ordersProjection, fresh)).toBe(2);
    expect((await deferredRows(db)).map((row) => row.index_name).sort()).toEqual([`orders__g${fresh.generation}_customer`, `orders__g${fresh.generation}_pending_fulfilment`]);
    expect(await sqliteIndexes(db, [fresh])).not.toEqual(made);

    // Another process (the service resuming the build) activates it.
    const service = new ProjectionGenerations(await opened.connectAgain());
    expect(await service.activate(ordersProjection, fresh, { evenIfBehind: true })).toBe(true);

    expect(await sqliteIndexes(db, [fresh])).toEqual(made);
    expect(await deferredRows(db)).toEqual([]);
  });

  it('sorts through temporary files while it builds them, and gives the connection its in-memory temporary store back, also when building stops half-way', async () => {
    const tempStore = async () => (await sql<{ temp_store: number }>`pragma temp_store`.execute(db)).rows[0]!.temp_store;
    const [FILE, MEMORY] = [1, 2];
    expect(await tempStore()).toBe(MEMORY);
    const generations = new ProjectionGenerations(db);
    const fresh = await generations.create(ordersProjection);
    await generations.deferSecondaryIndexes(ordersProjection, fresh);
    const duringBuilds: Promise<number>[] = [];

    // Kysely hands the one SQLite connection out in request order: this read runs before the index's transaction.
    await generations.buildDeferredIndexes(ordersProjection, fresh, ({ built, total }) => void (built < total && duringBuilds.push(tempStore())));

    expect(await Promise.all(duringBuilds)).toEqual([FILE, FILE]);
    expect(await tempStore()).toBe(MEMORY);
    const interrupted = await generations.create(ordersProjection);
    await generations.deferSecondaryIndexes(ordersProjection, interrupted);
    const failing = () => {
      throw new Error('the progress display failed');
    };
    await expect(generations.buildDeferredIndexes(ordersProjection, interrupted, failing)).rejects.toThrow('the progress display failed');
    expect(await tempStore()).toBe(MEMORY);
    expect(await deferredRows(db)).toHaveLength(2);
  });

  it('discarding a build forgets what it deferred', async () => {
    const generations = new ProjectionGenerations(db);
    const fresh = await generations.create(ordersProjection);
    await generations.deferSecondaryIndexes(ordersProjection, fresh);
    expect(await deferredRows(db)).toHaveLength(2);

    await generations.discard(ordersProjection, fresh);

    expect(await deferredRows(db)).toEqual([]);
  });

  it('keeps primary keys and unique indexes, whose constraints must hold while folding', async () => {
    const withUnique: AnyProjection = {
      name: 'numbered',
      version: 1,
      handles: [],
      tables: ['numbered'],
      migrations: (table) => ({
        '0001': {
          async up(migrating) {
            await migrating.schema.createTable(table('numbered')).addColumn('id', 'text', (column) => column.primaryKey()).addColumn('number', 'integer').addColumn('label', 'text').execute();
            await migrating.schema.createIndex(`${table('numbered')}_number`).unique().on(table('numbered')).column('number').execute();
            await migrating.schema.createIndex(`${table('numbered')}_label`).on(table('numbered')).column('label').execute();
          },
        },
      }),
      apply: async () => undefined,
    };
    const generations = new ProjectionGenerations(db);
    const fresh = await generations.create(withUnique);

    expect(await generations.deferSecondaryIndexes(withUnique, fresh)).toBe(1);

    expect((await deferredRows(db)).map((row) => row.index_name)).toEqual([`numbered__g${fresh.generation}_label`]);
    const { rows: kept } = await sql<{ name: string; unique: number; origin: string }>`
      select name, "unique", origin from pragma_index_list(${`numbered__g${fresh.generation}`}) order by name`.execute(db);
    expect(kept).toEqual([
      { name: `numbered__g${fresh.generation}_number`, unique: 1, origin: 'c' },
      { name: `sqlite_autoindex_numbered__g${fresh.generation}_1`, unique: 1, origin: 'pk' },
    ]);
  });
});

describe('secondary indexes on PostgreSQL', () => {
  it('are not deferred: PostgreSQL builds them as rows arrive', async () => {
    const opened = await postgresReadModels.open();
    try {
      const generations = new ProjectionGenerations(opened.db);
      const fresh = await generations.create(ordersProjection);
      const indexes = () =>
        sql<{ indexname: string }>`select indexname from pg_indexes where schemaname = current_schema() and tablename = ${`orders__g${fresh.generation}`} order by indexname`.execute(opened.db);
      const before = (await indexes()).rows;
      expect(before.length).toBe(3);

      expect(await generations.deferSecondaryIndexes(ordersProjection, fresh)).toBe(0);

      expect((await indexes()).rows).toEqual(before);
      expect(await deferredRows(opened.db)).toEqual([]);
    } finally {
      await opened.cleanup();
    }
  });
});
