import { NO_STREAM } from '@csp/event-store';
import {
  activityLogProjection,
  generationRunner,
  integrationEventsProjection,
  ledgerProjection,
  ProjectionGenerations,
  type AnyProjection,
  type ProjectionGeneration,
  type ReadModelDb,
} from '@csp/read-models';
import { CommerceLog, OFFICE, projectLog, WS_MONTHLY } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { eventually } from '@csp/testing/eventually';
import { v4 as uuid } from 'uuid';
import { ProjectionOperations } from './projection-operations';
import { SupervisedProjection } from './supervised-projection';

const PARTNERED = [ledgerProjection, integrationEventsProjection, activityLogProjection];

/** Each table of the three projections, its rows sorted in JS (not by the database's collation), numbers as text. */
async function partneredRows(db: ReadModelDb): Promise<Record<string, unknown[]>> {
  const tables = ['ledger_entries', 'ledger_customers', 'integration_events', 'integration_event_customers', 'activity_log', 'activity_log_customers'] as const;
  const dump: Record<string, unknown[]> = {};
  for (const table of tables) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    dump[table] = rows
      .map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([column, value]) => [column, value === null ? null : String(value)]))))
      .sort();
  }
  return dump;
}

describe.each(readModelDialects)('a rebuild of the partner-scoped projections on $name', (dialect) => {
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
    supervised = undefined;
    await closeLog();
    await opened.cleanup();
  });

  /** A key revealed to `customerId`'s agent, in a software stream of its own. */
  async function revealKey(customerId: string, revealedAt: string): Promise<void> {
    const softwareId = uuid();
    await log.store.appendToStream(
      `software-${softwareId}`,
      [
        {
          id: uuid(),
          type: 'KeyRevealed',
          data: { softwareId, customerId, productTitle: 'Office LTSC Professional Plus 2021', keyId: uuid(), revealedAt },
          metadata: { userId: `agent-of-${customerId.slice(0, 8)}`, userName: 'Agent' },
        },
      ],
      { expectedRevision: NO_STREAM },
    );
  }

  it('keeps each customer’s partner in memory and leaves the rows a fold batch by batch leaves: customers registered batches before their rows, two partners, one customer never registered', async () => {
    const customers = [];
    for (const [index, partnerId] of ['partner-a', 'partner-b', 'partner-a', 'partner-b'].entries()) {
      customers.push(await log.registerCustomer({ at: `2025-01-0${index + 1}T09:00:00.000Z`, partnerId }));
    }
    // Every customer's rows come several three-event batches after its registration.
    for (const [index, { customerId }] of customers.entries()) {
      const placed = await log.placeOrder(customerId, [WS_MONTHLY, OFFICE], `2025-02-0${index + 1}T12:00:00.000Z`);
      await log.startSubscriptions(placed);
    }
    for (const [index, { customerId }] of customers.entries()) await revealKey(customerId, `2025-03-0${index + 1}T08:00:00.000Z`);
    await revealKey(uuid(), '2025-03-09T08:00:00.000Z');
    await projectLog(log.store, db, 3, PARTNERED);
    const foldedBatchByBatch = await partneredRows(db);

    await new ProjectionOperations(log.store, db, PARTNERED).rebuildTogether(
      PARTNERED.map(({ name }) => name),
      { batchSize: 3 },
    );

    const generations = (await new ProjectionGenerations(db).list()).filter(({ name }) => PARTNERED.some((projection) => projection.name === name));
    expect(generations.map(({ generation, status }) => ({ generation, status }))).toEqual(PARTNERED.map(() => ({ generation: 2, status: 'active' })));
    const rebuilt = await partneredRows(db);
    expect(rebuilt).toEqual(foldedBatchByBatch);
    const partnersOf = (table: string) => new Set(rebuilt[table]!.map((row) => JSON.parse(row as string).partner_id));
    expect(partnersOf('ledger_entries')).toEqual(new Set(['partner-a', 'partner-b']));
    expect(partnersOf('integration_events')).toEqual(new Set(['partner-a', 'partner-b']));
    expect(partnersOf('activity_log')).toEqual(new Set(['partner-a', 'partner-b', '']));
    for (const table of ['ledger_customers', 'integration_event_customers', 'activity_log_customers']) expect(rebuilt[table]).toHaveLength(customers.length);
  });

  it('stores nothing of a rebuild that fails part-way: the answering generations stay as they were', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-01T09:00:00.000Z', partnerId: 'partner-a' });
    await log.startSubscriptions(await log.placeOrder(customer.customerId, [WS_MONTHLY], '2025-02-01T12:00:00.000Z'));
    await projectLog(log.store, db, 3, PARTNERED);
    const before = await partneredRows(db);
    const failing = { ...ledgerProjection, rebuildFold: () => ({ ...ledgerProjection.rebuildFold!(), finish: () => Promise.reject(new Error('disk full')) }) };

    await expect(new ProjectionOperations(log.store, db, [failing]).rebuildTogether(['ledger'], { batchSize: 3 })).rejects.toThrow('disk full');

    expect(await partneredRows(db)).toEqual(before);
    expect((await new ProjectionGenerations(db).list()).filter(({ name }) => name === 'ledger')).toEqual([
      expect.objectContaining({ generation: 1, status: 'active' }),
    ]);
  });

  /**
   * A rebuild of version 2 of the ledger, folded to the log's head and stopped before its `finish`:
   * as a rebuild killed after its last batch leaves it.
   */
  async function rebuildStoppedBeforeItsEnd(version2: AnyProjection): Promise<ProjectionGeneration> {
    const generations = new ProjectionGenerations(db);
    const build = await generations.create(version2);
    await generations.markUnresumable(version2, build);
    const events = await log.allEvents();
    const rebuild = generationRunner(log.store, db, version2, build, { rebuildFold: version2.rebuildFold!(), batchSize: 3, until: events.at(-1)!.position });
    await rebuild.start();
    await rebuild.stop();
    return build;
  }

  async function customerWithOneSubscription(): Promise<string> {
    const customer = await log.registerCustomer({ at: '2025-01-01T09:00:00.000Z', partnerId: 'partner-a' });
    await log.startSubscriptions(await log.placeOrder(customer.customerId, [WS_MONTHLY], '2025-02-01T12:00:00.000Z'));
    await projectLog(log.store, db, 3, [ledgerProjection]);
    return customer.customerId;
  }

  const startService = async (definition: AnyProjection, lines: string[] = []) => {
    supervised = new SupervisedProjection(definition, log.store, db, { onProgress: () => undefined, logger: { log: (line) => lines.push(line), error: (line) => lines.push(line) } });
    await supervised.start();
  };

  it('leaves a build a rebuild stopped part-way to no one: activating it throws, and a service whose version changed discards it once stalled and builds afresh', async () => {
    const customerId = await customerWithOneSubscription();
    const version2: AnyProjection = { ...ledgerProjection, version: ledgerProjection.version + 1 };
    const generations = new ProjectionGenerations(db);
    const killed = await rebuildStoppedBeforeItsEnd(version2);

    expect(await generations.isResumable(version2, killed)).toBe(false);
    await expect(generations.activate(version2, killed, { evenIfBehind: true })).rejects.toThrow('left part-way by a rebuild');

    // The customer buys again after the kill: resumed, the build would find no partner for it.
    await log.startSubscriptions(await log.placeOrder(customerId, [WS_MONTHLY], '2025-03-01T12:00:00.000Z'));
    // Its last move three minutes ago: stalled.
    const threeMinutesAgo = new Date(Date.now() - 180_000).toISOString();
    await db.updateTable('projection_generations').set({ created_at: threeMinutesAgo }).where('name', '=', 'ledger').execute();
    await db.updateTable('projection_checkpoints').set({ updated_at: threeMinutesAgo }).where('name', '=', `ledger@g${killed.generation}`).execute();
    await startService(version2);
    await eventually(async () => (await generations.active('ledger'))?.version === version2.version);

    // Discarded, its number is free again; its rows with the partner it kept would show here.
    expect((await generations.list()).filter(({ name }) => name === 'ledger')).toEqual([
      { name: 'ledger', generation: killed.generation, version: version2.version, status: 'active' },
    ]);
    const entries = await db.selectFrom('ledger_entries').selectAll().execute();
    expect(entries.length).toBeGreaterThan(1);
    expect(new Set(entries.map((entry) => entry.partner_id))).toEqual(new Set(['partner-a']));
    expect(await db.selectFrom('projection_unresumable_builds').selectAll().execute()).toEqual([]);
  });

  it('leaves a build that another process’s rebuild still moves to that process, answers from the old generation meanwhile and follows the new one once it switches over', async () => {
    const customerId = await customerWithOneSubscription();
    const version2: AnyProjection = { ...ledgerProjection, version: ledgerProjection.version + 1 };
    const generations = new ProjectionGenerations(db);
    const building = await rebuildStoppedBeforeItsEnd(version2);
    const lines: string[] = [];

    await startService(version2, lines);
    await eventually(async () => lines.some((line) => line.includes('is being rebuilt by another process')));

    expect(lines).toContainEqual(`version ${version2.version}: generation ${building.generation} is being rebuilt by another process; answering from generation 1 until it switches over`);
    expect((await generations.list()).filter(({ name }) => name === 'ledger').map(({ generation, status }) => ({ generation, status }))).toEqual([
      { generation: 1, status: 'active' },
      { generation: building.generation, status: 'building' },
    ]);
    // The other process ends its rebuild.
    await generations.finishRebuildFold(version2, building, version2.rebuildFold!());
    expect(await generations.activate(version2, building, { evenIfBehind: true })).toBe(true);
    const bought = await log.startSubscriptions(await log.placeOrder(customerId, [WS_MONTHLY], '2025-03-01T12:00:00.000Z'));

    await expect(supervised!.waitFor(bought.position, 5000)).resolves.toBe(true);
    expect(lines).toContainEqual(`generation 1 was replaced by generation ${building.generation} (rebuilt by another process); following it`);
    const entries = await db.selectFrom('ledger_entries').selectAll().execute();
    expect(entries.map((entry) => entry.id)).toContain(`${bought.events.find((event) => event.type === 'InstallmentBilled')!.id}:0`);
  });
});
