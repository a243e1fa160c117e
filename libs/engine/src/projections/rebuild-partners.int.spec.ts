import { NO_STREAM } from '@csp/event-store';
import { activityLogProjection, integrationEventsProjection, ledgerProjection, ProjectionGenerations, type ReadModelDb } from '@csp/read-models';
import { CommerceLog, OFFICE, projectLog, WS_MONTHLY } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { v4 as uuid } from 'uuid';
import { ProjectionOperations } from './projection-operations';

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

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db;
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });
  afterEach(async () => {
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
});
