import { positionToString, type EventStore, type LogPosition, type ReadAllOptions, type RecordedEvent } from '@csp/event-store';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import type { ReadModelDb } from './schema';
import { ProjectionCheckpointConflictError, ProjectionRunner, readCheckpoint, type ProjectFn } from './projection-runner';
import {
  CommerceLog,
  OFFICE,
  WS_MONTHLY,
  dumpReadModels,
  projectEvents,
  projectIntoFirstGenerations,
  truncateFirstGenerations,
  writeStandardHistory,
  type ReadModelDump,
} from '@csp/testing/fixtures/commerce-log.fixture';

const NAME = 'read-models';

describe.each(readModelDialects)('ProjectionRunner on $name', (dialect) => {
  const opened: OpenedReadModels[] = [];
  const runners: ProjectionRunner[] = [];
  let main: OpenedReadModels;
  let db: ReadModelDb;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;

  const openStore = async (): Promise<OpenedReadModels> => {
    const store = await dialect.open();
    opened.push(store);
    return store;
  };
  const openDb = async (): Promise<ReadModelDb> => (await openStore()).db;
  // `projectEvents` folds into the views' generation, which is generation 1 in these fresh stores.
  const runner = (options: { project?: ProjectFn; batchSize?: number; onProgress?: (position: LogPosition, applied: number) => void } = {}) => {
    const created = new ProjectionRunner(log.store, db, { name: NAME, project: projectIntoFirstGenerations, ...options });
    runners.push(created);
    return created;
  };
  /** The rows a plain fold of `events` gives, in a store of the same dialect: the reference to compare with. */
  const referenceDump = async (events: readonly RecordedEvent[]): Promise<Omit<ReadModelDump, 'checkpoints'>> => {
    const reference = await openDb();
    await projectEvents(reference, events);
    const { checkpoints: _, ...rows } = await dumpReadModels(reference);
    return rows;
  };
  const rowsOf = async (target: ReadModelDb) => {
    const { checkpoints: _, ...rows } = await dumpReadModels(target);
    return rows;
  };

  beforeEach(async () => {
    main = await openStore();
    db = main.db;
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });

  afterEach(async () => {
    for (const created of runners.splice(0)) await created.stop();
    await closeLog();
    for (const store of opened.splice(0)) await store.cleanup();
  });

  it('catches up with an existing log in batches, then folds live events one transaction each', async () => {
    await writeStandardHistory(log);
    const history = await log.allEvents();
    const batches: number[] = [];
    const positions: string[] = [];
    const projection = runner({
      batchSize: 7,
      onProgress: (position, applied) => {
        batches.push(applied);
        positions.push(positionToString(position));
      },
    });

    await projection.start();

    const fullBatches = Math.floor(history.length / 7);
    expect(history.length).toBeGreaterThan(3 * 7);
    expect(batches).toEqual([...Array(fullBatches).fill(7), ...(history.length % 7 ? [history.length % 7] : [])]);
    expect(positions.at(-1)).toBe(positionToString(history.at(-1)!.position));
    expect(projection.position).toEqual(history.at(-1)!.position);
    expect(await readCheckpoint(db, NAME)).toEqual(history.at(-1)!.position);
    expect(await rowsOf(db)).toEqual(await referenceDump(history));

    // One at a time: appends made back to back are committed, and so folded, together.
    const customer = await log.registerCustomer({ at: '2025-06-01T09:00:00.000Z' });
    await expect(projection.waitFor(customer.position, 5000)).resolves.toBe(true);
    const placed = await log.placeOrder(customer.customerId, [WS_MONTHLY, OFFICE], '2025-06-02T09:00:00.000Z');
    await expect(projection.waitFor(placed.position, 5000)).resolves.toBe(true);

    expect(batches.slice(-2)).toEqual([1, 1]);
    const order = await db.selectFrom('orders').selectAll().where('id', '=', placed.orderId).executeTakeFirstOrThrow();
    expect(order).toMatchObject({ customer_id: customer.customerId, pending_fulfilment: 1 });

    const started = await log.startSubscriptions(placed);
    await expect(projection.waitFor(started.position, 5000)).resolves.toBe(true);

    expect(await readCheckpoint(db, NAME)).toEqual(started.position);
    const fulfilled = await db.selectFrom('orders').select('pending_fulfilment').where('id', '=', placed.orderId).executeTakeFirstOrThrow();
    expect(fulfilled.pending_fulfilment).toBe(0);
    expect(await rowsOf(db)).toEqual(await referenceDump(await log.allEvents()));
  });

  it('folds live events that were committed together in shared transactions of at most batchSize', async () => {
    const batches: number[] = [];
    const projection = runner({ batchSize: 4, onProgress: (_, applied) => batches.push(applied) });
    await projection.start();

    // Appends made in one turn share one commit of the log, so the subscription receives them together.
    const registered = await Promise.all(Array.from({ length: 10 }, () => log.registerCustomer({ at: '2025-06-01T09:00:00.000Z' })));
    const last = registered.map(({ position }) => position).sort((a, b) => (a.commit < b.commit ? -1 : 1)).at(-1)!;
    await expect(projection.waitFor(last, 5000)).resolves.toBe(true);

    expect(batches).toEqual([4, 4, 2]);
    expect(await readCheckpoint(db, NAME)).toEqual(last);
    expect(await rowsOf(db)).toEqual(await referenceDump(await log.allEvents()));
  });

  it('waitFor resolves at once when reached, later when the event arrives, and false on timeout', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const projection = runner();
    await projection.start();

    await expect(projection.waitFor(customer.position, 0)).resolves.toBe(true);

    const beyond: LogPosition = { commit: customer.position.commit + 100n, prepare: customer.position.prepare + 100n };
    const started = Date.now();
    await expect(projection.waitFor(beyond, 150)).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const next: LogPosition = { commit: customer.position.commit + 1n, prepare: customer.position.prepare + 1n };
    const waiting = projection.waitFor(next, 5000);
    const placed = await log.placeOrder(customer.customerId, [OFFICE], '2025-02-01T12:00:00.000Z');
    expect(placed.position).toEqual(next);
    await expect(waiting).resolves.toBe(true);
    // Resolved only after the commit: the row is there to be read.
    expect(await db.selectFrom('orders').select('id').execute()).toEqual([{ id: placed.orderId }]);
  });

  it('rolls back a failed batch with its checkpoint, and a restart folds every event exactly once', async () => {
    await writeStandardHistory(log);
    const history = await log.allEvents();
    const failing = history[7]!;
    const failingProject: ProjectFn = async (trx, event) => {
      if (event.id === failing.id) throw new Error(`projection failed on ${event.type}`);
      await projectIntoFirstGenerations(trx, event);
    };

    await expect(runner({ project: failingProject, batchSize: 5 }).start()).rejects.toThrow(
      `projection failed on ${failing.type}`,
    );

    // Batch 1 (events 0-4) committed; batch 2 (5-9) failed at event 7: none of 5 and 6 is visible.
    expect(await readCheckpoint(db, NAME)).toEqual(history[4]!.position);
    expect(await rowsOf(db)).toEqual(await referenceDump(history.slice(0, 5)));
    expect(history[5]!.type).toBe('OrderPlaced');
    const orderOfBatch2 = String(history[5]!.data['orderId']);
    expect(await db.selectFrom('orders').select('id').where('id', '=', orderOfBatch2).execute()).toEqual([]);

    const applied: string[] = [];
    const restarted = runner({
      batchSize: 5,
      project: async (trx, event) => {
        applied.push(event.id);
        await projectIntoFirstGenerations(trx, event);
      },
    });
    await restarted.start();

    expect(applied).toEqual(history.slice(5).map((event) => event.id));
    expect(await readCheckpoint(db, NAME)).toEqual(history.at(-1)!.position);
    // A second fold of any InstallmentBilled would double `chargedForTerm`; the rows match a clean fold.
    expect(await rowsOf(db)).toEqual(await referenceDump(history));
  });

  it('keeps the checkpoint before a live event that fails and reports the error', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const errors: unknown[] = [];
    const projection = runner({
      project: async (trx, event) => {
        if (event.type === 'OrderPlaced') throw new Error('live failure');
        await projectIntoFirstGenerations(trx, event);
      },
    });
    projection.onError((error) => errors.push(error));
    await projection.start();

    const placed = await log.placeOrder(customer.customerId, [OFFICE], '2025-02-01T12:00:00.000Z');
    await expect(projection.waitFor(placed.position, 300)).resolves.toBe(false);

    expect(errors).toEqual([new Error('live failure')]);
    expect(await readCheckpoint(db, NAME)).toEqual(customer.position);
    expect(await db.selectFrom('orders').select('id').execute()).toEqual([]);

    const restarted = runner();
    await restarted.start();
    expect(await readCheckpoint(db, NAME)).toEqual(placed.position);
    expect(await db.selectFrom('orders').select('id').execute()).toEqual([{ id: placed.orderId }]);
  });

  it('rebuilds identical rows from zero after the read models were emptied', async () => {
    await writeStandardHistory(log);
    const first = runner({ batchSize: 9 });
    await first.start();
    await first.stop();
    const before = await dumpReadModels(db);
    expect(before.subscriptions).toHaveLength(4);

    await truncateFirstGenerations(db);
    expect(await dumpReadModels(db)).toEqual({ customers: [], orders: [], subscriptions: [], checkpoints: [] });
    expect(await readCheckpoint(db, NAME)).toBeUndefined();

    const rebuild = runner({ batchSize: 500 });
    await rebuild.start();

    expect(await dumpReadModels(db)).toEqual(before);
    expect(before.checkpoints).toEqual([{ name: NAME, position: positionToString((await log.store.headPosition())!) }]);
  });

  it('advances the checkpoint over events it does not fold', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const foreign = await log.store.appendToStream(
      'note-1',
      [{ id: '6f1d7a52-6a43-4c1e-9a57-1f0b7c3b2d10', type: 'PartnerNoteAdded', data: { customerId: customer.customerId } }],
      { expectedRevision: 'no_stream' },
    );
    const projection = runner();
    await projection.start();

    expect(await readCheckpoint(db, NAME)).toEqual(foreign.position);
    expect(await rowsOf(db)).toEqual(await referenceDump(customer.events));
  });

  it('refuses to fold a batch when another runner of the same projection moved the checkpoint', async () => {
    await writeStandardHistory(log);
    const history = await log.allEvents();
    // A second process on its own connection, which read the (empty) checkpoint before the first
    // runner folded, and reads the log only after it has. (Its transaction cannot be the one held
    // open: a write transaction takes the lock at its start, and both runners share this thread.)
    const otherConnection = await main.connectAgain();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let atGate!: () => void;
    const reachedGate = new Promise<void>((resolve) => (atGate = resolve));
    const store = log.store;
    const readsAfterTheGate: EventStore = Object.assign(Object.create(store) as EventStore, {
      // Without pages, every read of the log goes through the `readAll` below.
      readAllPages: undefined,
      async *readAll(options?: ReadAllOptions) {
        atGate();
        await gate;
        yield* store.readAll(options);
      },
    });
    const stale = new ProjectionRunner(readsAfterTheGate, otherConnection, { name: NAME, project: projectIntoFirstGenerations });
    runners.push(stale);
    const staleStart = stale.start();
    await reachedGate;

    await runner().start();
    release();

    await expect(staleStart).rejects.toThrow(ProjectionCheckpointConflictError);
    expect(await readCheckpoint(db, NAME)).toEqual(history.at(-1)!.position);
    expect(await rowsOf(db)).toEqual(await referenceDump(history));
  });

  it('stops rather than write a stale checkpoint when the read models are truncated under it', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const errors: unknown[] = [];
    const projection = runner();
    projection.onError((error) => errors.push(error));
    await projection.start();

    await truncateFirstGenerations(db);
    const placed = await log.placeOrder(customer.customerId, [OFFICE], '2025-02-01T12:00:00.000Z');
    await expect(projection.waitFor(placed.position, 300)).resolves.toBe(false);

    expect(errors).toEqual([expect.any(ProjectionCheckpointConflictError)]);
    expect(await readCheckpoint(db, NAME)).toBeUndefined();
    expect(await rowsOf(db)).toEqual({ customers: [], orders: [], subscriptions: [] });

    await runner().start();
    expect(await readCheckpoint(db, NAME)).toEqual(placed.position);
    expect(await rowsOf(db)).toEqual(await referenceDump(await log.allEvents()));
  });
});
