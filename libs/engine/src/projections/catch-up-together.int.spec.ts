import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import { NO_STREAM, SqliteEventStore, type LogPosition, type ReadAllOptions, type RecordedEvent } from '@csp/event-store';
import { openSqliteReadModels, ProjectionGenerations, projectionRegistry, readActiveCheckpoints, type ReadModelDb } from '@csp/read-models';
import { sql } from 'kysely';
import { ForwardingEventStore } from '@csp/testing/forwarding-event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { catchUpTogether } from './catch-up-together';

/** The real SQLite store, counting how often the whole log is read (as pages or one by one). */
class CountedReads extends ForwardingEventStore {
  logReads = 0;

  override readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    this.logReads++;
    return this.inner.readAll(options);
  }
}

/** The real SQLite store, whose log reads fail after `eventsBeforeFailure` events: a start cut short. */
class FailingReads extends ForwardingEventStore {
  constructor(
    inner: ForwardingEventStore['inner'],
    private readonly eventsBeforeFailure: number,
  ) {
    super(inner);
  }

  override readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    const events = this.inner.readAll(options);
    const limit = this.eventsBeforeFailure;
    return (async function* () {
      let read = 0;
      for await (const event of events) {
        if (++read > limit) throw new Error('the log could not be read');
        yield event;
      }
    })();
  }
}

/** Every index of the read store's generation tables, by name, with its definition. */
async function generationIndexes(db: ReadModelDb): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; sql: string }>`
    select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name glob '*__g[0-9]*' order by name`.execute(db);
  return Object.fromEntries(rows.map((row) => [row.name, row.sql]));
}

async function deferredIndexCount(db: ReadModelDb): Promise<number> {
  return (await db.selectFrom('projection_deferred_indexes').select('index_name').execute()).length;
}

function registration(): { type: string; data: CustomerRegistered['data'] } {
  const customerId = uuidv7();
  return {
    type: 'CustomerRegistered',
    data: { customerId, partnerId: 'partner-1', companyName: customerId, domain: `${customerId}.example`, country: 'DE', registeredAt: '2026-11-30T00:00:00.000Z' },
  };
}

describe('catchUpTogether', () => {
  let dir: string;
  let store: CountedReads;
  let db: ReadModelDb;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csp-catch-up-'));
    store = new CountedReads(SqliteEventStore.open(join(dir, 'events.db')));
    db = await openSqliteReadModels(join(dir, 'read-models.db'));
  });
  afterEach(async () => {
    await store.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const register = async (count: number) => {
    for (let index = 0; index < count; index++) await store.appendToStream(`customer-${uuidv7()}`, [{ id: uuidv7(), ...registration() }], { expectedRevision: NO_STREAM });
  };
  const checkpoints = async () => [...(await readActiveCheckpoints(db)).entries()].map(([name, position]) => [name, position?.commit]);

  it('folds every projection of an empty read store to the head in one read of the log', async () => {
    await register(25);
    const heard = new Map<string, LogPosition>();
    await catchUpTogether(store, db, projectionRegistry, (name, position) => heard.set(name, position));
    expect(store.logReads).toBe(1);
    expect(await checkpoints()).toEqual(projectionRegistry.map(({ name }) => [name, 25n]));
    expect([...heard.values()].map((position) => position.commit)).toEqual(projectionRegistry.map(() => 25n));
    expect((await db.selectFrom('customers').select('id').execute()).length).toBe(25);
  });

  it('folds an empty read store without its secondary indexes, and a start cut short leaves them for the next to build', async () => {
    await register(25);
    const reference = await openSqliteReadModels(join(dir, 'reference.db'));
    await new ProjectionGenerations(reference).ensureActive(projectionRegistry);
    const indexesOfFreshGenerations = await generationIndexes(reference);
    await reference.destroy();

    const cutShort = new FailingReads(store, 10);
    await expect(catchUpTogether(cutShort, db, projectionRegistry, () => undefined)).rejects.toThrow('the log could not be read');
    expect(await deferredIndexCount(db)).toBeGreaterThan(0);
    expect(Object.keys(await generationIndexes(db)).length).toBeLessThan(Object.keys(indexesOfFreshGenerations).length);

    await catchUpTogether(store, db, projectionRegistry, () => undefined);
    expect(await deferredIndexCount(db)).toBe(0);
    expect(await generationIndexes(db)).toEqual(indexesOfFreshGenerations);
    expect(await checkpoints()).toEqual(projectionRegistry.map(({ name }) => [name, 25n]));
    expect((await db.selectFrom('customers').select('id').execute()).length).toBe(25);
  });

  it('reads the log once for each position the checkpoints stand at, and not at all when they stand at the head', async () => {
    await register(10);
    await catchUpTogether(store, db, projectionRegistry.filter(({ name }) => name === 'customers'), () => undefined);
    await register(5);
    store.logReads = 0;
    await catchUpTogether(store, db, projectionRegistry, () => undefined);
    expect(store.logReads).toBe(2);
    expect(await checkpoints()).toEqual(projectionRegistry.map(({ name }) => [name, 15n]));
    expect((await db.selectFrom('customers').select('id').execute()).length).toBe(15);

    store.logReads = 0;
    await catchUpTogether(store, db, projectionRegistry, () => undefined);
    expect(store.logReads).toBe(0);
  });
});
