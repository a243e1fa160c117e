import type { EventStore, ReadAllOptions, RecordedEvent } from '@csp/event-store';
import { ordersProjection, ProjectionGenerations, type AnyProjection, type ReadModelDb } from '@csp/read-models';
import { CommerceLog, OFFICE, projectLog, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, sqliteReadModels, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { eventually } from '@csp/testing/eventually';
import { SupervisedProjection } from './supervised-projection';

describe.each(readModelDialects)('a projection whose version changed, on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: ReadModelDb;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;
  let supervised: SupervisedProjection | undefined;

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db;
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });
  afterEach(async () => {
    await supervised?.stop();
    await closeLog();
    await opened.cleanup();
  });

  const ordersView = () => db.selectFrom('orders').selectAll().orderBy('id').execute();

  it('rebuilds from zero into fresh tables while the old rows keep answering, then switches and ends with the same rows', async () => {
    await writeStandardHistory(log);
    await projectLog(log.store, db);
    const rowsOfVersion1 = await ordersView();
    expect(rowsOfVersion1.length).toBeGreaterThan(0);

    // Version 2 folds the same way; its rebuild (the only reader of the log from the very start)
    // is held after its first few events, so the test can look at the store in the middle of it.
    // Holding it between reads, not inside a batch's transaction, is what a slow log looks like.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let rebuildReading = false;
    const slowFromTheStart: EventStore = Object.assign(Object.create(log.store) as EventStore, {
      // Without pages, every read of the log goes through the `readAll` below.
      readAllPages: undefined,
      readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
        if (options?.fromPosition) return log.store.readAll(options);
        return (async function* () {
          let yielded = 0;
          for await (const event of log.store.readAll(options)) {
            rebuildReading = true;
            if (++yielded > 3) await held;
            yield event;
          }
        })();
      },
    });
    const version2: AnyProjection = { ...ordersProjection, version: ordersProjection.version + 1 };
    supervised = new SupervisedProjection(version2, slowFromTheStart, db, { onProgress: () => undefined, logger: { log: () => undefined, error: () => undefined } });
    await supervised.start();

    const generations = new ProjectionGenerations(db);
    await eventually(async () => (await generations.building('orders')) !== undefined && rebuildReading);
    expect(await generations.active('orders')).toMatchObject({ generation: 1, version: ordersProjection.version });
    expect(await ordersView()).toEqual(rowsOfVersion1);

    // The answering generation keeps following the log during the rebuild.
    const customer = await log.registerCustomer({ at: '2026-02-01T09:00:00.000Z' });
    const placed = await log.placeOrder(customer.customerId, [OFFICE], '2026-02-02T09:00:00.000Z');
    await expect(supervised.waitFor(placed.position, 5000)).resolves.toBe(true);
    expect((await ordersView()).map((row) => row.id)).toContain(placed.orderId);
    expect(await generations.active('orders')).toMatchObject({ generation: 1 });

    release();
    await eventually(async () => (await generations.active('orders'))?.generation === 2);

    expect(await generations.list()).toContainEqual({ name: 'orders', generation: 2, version: ordersProjection.version + 1, status: 'active' });
    expect((await generations.list()).filter((generation) => generation.name === 'orders')).toHaveLength(1);
    // Same rows as a plain fold of the whole log by a store that never had version 1.
    const reference = await sqliteReadModels.open();
    await projectLog(log.store, reference.db);
    const expected = await reference.db.selectFrom('orders').selectAll().orderBy('id').execute();
    await reference.cleanup();
    expect(await ordersView()).toEqual(expected);
    await expect(supervised.waitFor(placed.position, 1000)).resolves.toBe(true);
  });
});
