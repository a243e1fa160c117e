import { compareLedgerEntries } from '@csp/domain/ledger/ledger-checksum';
import { supportRequestDecider } from '@csp/domain/support-request/support-request.decider';
import { supportRequestStream } from '@csp/domain/support-request/support-request.events';
import { NO_STREAM, positionToString, type JsonObject, type RecordedEvent } from '@csp/event-store';
import {
  AZURE_MONTHLY,
  CommerceLog,
  OFFICE,
  WS_MONTHLY,
  projectEvents,
  writeStandardHistory,
} from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { sql } from 'kysely';
import { v4 as uuid } from 'uuid';
import type { ReadModelDb } from '../../schema';
import { generationRunner } from '../../projection-runner';
import { ProjectionGenerations } from '../../projection/projection-generations';
import {
  ledgerEntriesOfRow,
  ledgerProjection,
  ledgerRowIdsHolding,
  partneredLedgerEntriesOf,
  type LedgerEntriesTable,
  type PartneredLedgerEntry,
} from './ledger.projection';

type Data = Record<string, unknown> & { amount: { amount: number; currency: string } };

describe.each(readModelDialects)('ledger projection on $name', (dialect) => {
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

  const rows = () => db.selectFrom('ledger_entries').selectAll().orderBy('position_commit').orderBy('position_prepare').orderBy('id').execute();
  const rowOf = async (id: string) => db.selectFrom('ledger_entries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const entries = async () => (await rows()).flatMap(ledgerEntriesOfRow);
  const entryOf = async (id: string) => {
    const entry = (await entries()).find((stored) => stored.id === id);
    if (!entry) throw new Error(`no ledger entry ${id}`);
    return entry;
  };
  const only = (events: RecordedEvent[], type: string) => events.filter((event) => event.type === type);

  it('InstallmentBilled is a positive charge in its due month, with the partner of its customer and every column', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-7' });
    const placed = await log.placeOrder(customer.customerId, [WS_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const [billed] = only(started.events, 'InstallmentBilled') as [RecordedEvent];
    const data = billed.data as Data;

    await projectEvents(db, [...customer.events, ...placed.events, ...started.events], [ledgerProjection]);

    const row = await rowOf(`${billed.id}:0`);
    expect({ ...row, amount: Number(row.amount), position_commit: Number(row.position_commit), position_prepare: Number(row.position_prepare) }).toEqual({
      id: `${billed.id}:0`,
      kind: 'charge',
      customer_id: customer.customerId,
      partner_id: 'partner-7',
      order_id: placed.orderId,
      subscription_id: placed.subscriptionIds[1],
      support_request_id: null,
      amount: data.amount.amount,
      currency: 'EUR',
      invoice_period: '2025-02',
      reason: 'installment 1 of term 1',
      position: `${billed.position.commit}.${billed.position.prepare}`,
      position_commit: Number(billed.position.commit),
      position_prepare: Number(billed.position.prepare),
      occurred_at: data['dueAt'],
      further_entries: null,
    });
    expect(data.amount.amount).toBeGreaterThan(0);
  });

  it('a cancellation refunds negatively and voids the withdrawn installments on the next invoice; a perpetual credit too', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const placed = await log.placeOrder(customer.customerId, [AZURE_MONTHLY, OFFICE], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const cancelled = await log.cancelSubscription(placed.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');
    const credited = await log.cancelPerpetualLines(placed.orderId, '2025-02-04T10:00:00.000Z');

    await projectEvents(db, [...customer.events, ...placed.events, ...started.events, ...cancelled.events, ...credited.events], [ledgerProjection]);

    const [cancellation] = only(cancelled.events, 'SubscriptionCancelled') as [RecordedEvent];
    const refund = await rowOf(`${cancellation.id}:0`);
    expect(refund.kind).toBe('refund');
    expect(Number(refund.amount)).toBe(-(cancellation.data['refund'] as Data['amount']).amount);
    expect(refund.invoice_period).toBe('2025-03');
    const [voided] = only(cancelled.events, 'FutureInstallmentsVoided') as [RecordedEvent];
    const installments = voided.data['installments'] as { sequence: number; amount: Data['amount'] }[];
    expect(installments.length).toBeGreaterThan(0);
    for (const [index, installment] of installments.entries()) {
      const entry = await entryOf(`${voided.id}:${index}`);
      expect([entry.kind, entry.amount, entry.invoicePeriod, entry.position]).toEqual([
        'void',
        { amount: -installment.amount.amount, currency: installment.amount.currency },
        '2025-03',
        positionToString(voided.position),
      ]);
      expect(entry.reason).toMatch(new RegExp(`^installment ${installment.sequence} of term 1 withdrawn`));
    }
    expect((await entries()).filter((entry) => entry.kind === 'void')).toHaveLength(installments.length);
    const [perpetual] = credited.events as [RecordedEvent];
    const credit = await rowOf(`${perpetual.id}:0`);
    expect([credit.kind, Number(credit.amount), credit.invoice_period, credit.subscription_id]).toEqual([
      'credit',
      -(perpetual.data['credit'] as Data['amount']).amount,
      '2025-03',
      null,
    ]);
  });

  const customerPositions = async () =>
    (await db.selectFrom('ledger_customer_positions').selectAll().execute())
      .map((row) => `${row.customer_id}@${row.position_commit}`)
      .sort();
  const positionsOfEntries = async () => [...new Set((await rows()).map((row) => `${row.customer_id}@${row.position_commit}`))].sort();

  it("keeps one customer position per event that gave entries, however many it gave: a cancellation's refund and voids give two", async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const other = await log.registerCustomer({ at: '2025-01-10T09:30:00.000Z' });
    const placed = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const otherPlaced = await log.placeOrder(other.customerId, [WS_MONTHLY], '2025-02-01T12:30:00.000Z');
    const otherStarted = await log.startSubscriptions(otherPlaced);
    const cancelled = await log.cancelSubscription(placed.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');

    await projectEvents(
      db,
      [...customer.events, ...other.events, ...placed.events, ...started.events, ...otherPlaced.events, ...otherStarted.events, ...cancelled.events],
      [ledgerProjection],
    );

    const stored = await customerPositions();
    expect((await entries()).filter((entry) => entry.kind === 'void').length).toBeGreaterThan(1);
    expect(stored).toEqual(await positionsOfEntries());
    const folded = await rows();
    const sourceEvents = [...started.events, ...otherStarted.events, ...cancelled.events].filter((event) => folded.some((row) => row.id.startsWith(`${event.id}:`)));
    expect(stored).toHaveLength(sourceEvents.length);
    expect(stored.filter((key) => key.startsWith(`${customer.customerId}@`))).toHaveLength(3);
  });

  it('a generation migrated from before customer positions takes them from its entries and drops the customer index', async () => {
    await writeStandardHistory(log);
    await projectEvents(db, await log.allEvents(), [ledgerProjection]);
    const folded = await customerPositions();
    expect(folded.length).toBeGreaterThan(3);
    // The store as 0001 left it: no positions table, the customer and position indexes of the entries, one entry a row.
    await sql`drop view ledger_customer_positions`.execute(db);
    await sql`drop table ledger_customer_positions__g1`.execute(db);
    await sql`create index ledger_entries__g1_partner_customer on ledger_entries__g1 (partner_id, customer_id)`.execute(db);
    await sql`drop index ledger_entries__g1_partner_position`.execute(db);
    await sql`create index ledger_entries__g1_position on ledger_entries__g1 (position_commit, position_prepare)`.execute(db);
    await sql`drop view ledger_entries`.execute(db);
    await sql`alter table ledger_entries__g1 drop column further_entries`.execute(db);
    await sql`delete from ledger__g1_migrations where name in ('0002_customer_positions', '0003_partner_position', '0004_further_entries')`.execute(db);
    expect(await indexNames()).toContain('ledger_entries__g1_partner_customer');

    await new ProjectionGenerations(db).ensureActive([ledgerProjection]);

    expect(await customerPositions()).toEqual(folded);
    expect((await rows()).every((row) => row.further_entries === null)).toBe(true);
    expect(await indexNames()).not.toContain('ledger_entries__g1_partner_customer');
    expect(await indexNames()).toContain('ledger_customer_positions__g1_customer');
    expect(await indexNames()).toContain('ledger_entries__g1_partner_position');
    expect(await indexNames()).not.toContain('ledger_entries__g1_position');
  });

  it('a generation still being built gets the migrations it lacks when the store is opened', async () => {
    const generations = new ProjectionGenerations(db);
    const build = await generations.create(ledgerProjection);
    expect(build).toMatchObject({ generation: 2, status: 'building' });
    // Made by the code before 0002, then left unfinished.
    await sql`drop table ledger_customer_positions__g2`.execute(db);
    await sql`create index ledger_entries__g2_partner_customer on ledger_entries__g2 (partner_id, customer_id)`.execute(db);
    await sql`drop index ledger_entries__g2_partner_position`.execute(db);
    await sql`create index ledger_entries__g2_position on ledger_entries__g2 (position_commit, position_prepare)`.execute(db);
    await sql`alter table ledger_entries__g2 drop column further_entries`.execute(db);
    await sql`delete from ledger__g2_migrations where name in ('0002_customer_positions', '0003_partner_position', '0004_further_entries')`.execute(db);
    await generations.deferSecondaryIndexes(ledgerProjection, build);

    await generations.ensureActive([ledgerProjection]);
    await generations.buildDeferredIndexes(ledgerProjection, build);

    expect(await indexNames()).toContain('ledger_customer_positions__g2_customer');
    expect(await indexNames()).toContain('ledger_entries__g2_partner_position');
    expect(await indexNames()).not.toContain('ledger_entries__g2_position');
    expect(await indexNames()).not.toContain('ledger_entries__g2_partner_customer');
    expect(await generations.building('ledger')).toMatchObject({ generation: 2 });
  });

  async function indexNames(): Promise<string[]> {
    const query =
      dialect.name === 'sqlite'
        ? sql<{ name: string }>`select name from sqlite_master where type = 'index'`
        : sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`;
    return (await query.execute(db)).rows.map((row) => row.name);
  }

  it('voids the same installments from a log that recorded one InstallmentVoided each, under those events’ ids', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const now = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const before = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = [...(await log.startSubscriptions(now)).events, ...(await log.startSubscriptions(before)).events];
    const cancelledNow = await log.cancelSubscription(now.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');
    const cancelledBefore = await log.cancelSubscriptionOneVoidPerEvent(before.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');

    await projectEvents(db, [...customer.events, ...now.events, ...before.events, ...started, ...cancelledNow.events, ...cancelledBefore.events], [ledgerProjection]);

    const voidsOf = async (subscriptionId: string) =>
      (await rows())
        .filter((row) => row.kind === 'void' && row.subscription_id === subscriptionId)
        .flatMap(ledgerEntriesOfRow)
        .sort(compareLedgerEntries);
    const [voidsNow, voidsBefore] = [await voidsOf(now.subscriptionIds[1]!), await voidsOf(before.subscriptionIds[1]!)];
    expect(voidsNow).toHaveLength(11);
    const withoutSource = (entries: PartneredLedgerEntry[]) =>
      entries.map(({ id: _id, position: _position, orderId: _orderId, subscriptionId: _subscriptionId, ...entry }) => entry);
    expect(withoutSource(voidsBefore)).toEqual(withoutSource(voidsNow));
    const legacyVoids = only(cancelledBefore.events, 'InstallmentVoided');
    expect(voidsBefore.map(({ id, position }) => [id, position])).toEqual(legacyVoids.map((event) => [`${event.id}:0`, positionToString(event.position)]));
  });

  it("stores a cancellation's voided installments in one row and reads back the entries the event gives", async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-7' });
    const placed = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const cancelled = await log.cancelSubscription(placed.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');

    await projectEvents(db, [...customer.events, ...placed.events, ...started.events, ...cancelled.events], [ledgerProjection]);

    const [voided] = only(cancelled.events, 'FutureInstallmentsVoided') as [RecordedEvent];
    const given = partneredLedgerEntriesOf(voided, () => 'partner-7');
    expect(given.length).toBeGreaterThan(1);
    const voidRows = (await rows()).filter((row) => row.kind === 'void');
    expect(voidRows.map((row) => row.id)).toEqual([`${voided.id}:0`]);
    expect(JSON.parse(voidRows[0]!.further_entries!)).toHaveLength(given.length - 1);
    expect(ledgerEntriesOfRow(voidRows[0]!)).toEqual(given);
    const [billed] = only(started.events, 'InstallmentBilled') as [RecordedEvent];
    expect((await rowOf(`${billed.id}:0`)).further_entries).toBeNull();
  });

  it('stores at most 128 entries a row, so the row of an entry is among the 128 ids up to its own', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-7' });
    const installments = Array.from({ length: 130 }, (_, index) => ({
      sequence: index + 1,
      dueAt: `${2030 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01T00:00:00.000Z`,
      amount: { amount: 100 + index, currency: 'EUR' },
    }));
    await log.store.appendToStream(
      `subscription-${uuid()}`,
      [
        {
          id: uuid(),
          type: 'FutureInstallmentsVoided',
          data: { subscriptionId: 'sub-1', customerId: customer.customerId, orderId: 'order-1', termNumber: 1, installments, voidedAt: '2030-01-01T00:00:00.000Z', invoicePeriod: '2030-02' },
        },
      ],
      { expectedRevision: NO_STREAM },
    );
    const [voided] = only(await log.allEvents(), 'FutureInstallmentsVoided') as [RecordedEvent];

    await projectEvents(db, [...customer.events, voided], [ledgerProjection]);

    expect((await rows()).map((row) => row.id)).toEqual([`${voided.id}:0`, `${voided.id}:128`]);
    expect(await entries()).toEqual(partneredLedgerEntriesOf(voided, () => 'partner-7'));
    expect(ledgerRowIdsHolding(`${voided.id}:129`)).toEqual(Array.from({ length: 128 }, (_, offset) => `${voided.id}:${129 - offset}`));
    expect(ledgerRowIdsHolding(`${voided.id}:127`)).toContain(`${voided.id}:0`);
    expect(ledgerRowIdsHolding(`${voided.id}:2`)).toEqual([`${voided.id}:2`, `${voided.id}:1`, `${voided.id}:0`]);
    for (const notAnEntry of [`${voided.id}:02`, `${voided.id}:-1`, `${voided.id}:x`, `${voided.id}:`, voided.id, ':3', '7']) expect(ledgerRowIdsHolding(notAnEntry)).toEqual([]);
  });

  it('SupportRequestApproved credits the approved amount, naming the request', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-3' });
    const requestId = uuid();
    const events = await appendDecided(log, requestId, customer.customerId);

    await projectEvents(db, [...customer.events, ...events], [ledgerProjection]);

    const approval = only(events, 'SupportRequestApproved')[0]!;
    expect(await rows()).toHaveLength(1);
    const row = await rowOf(`${approval.id}:0`);
    expect([row.kind, Number(row.amount), row.currency, row.support_request_id, row.partner_id, row.invoice_period]).toEqual([
      'credit',
      -2500,
      'EUR',
      requestId,
      'partner-3',
      '2025-04',
    ]);
  });

  it('folds an event seen twice into one entry, and an entry of an unregistered customer belongs to no partner', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
    const placed = await log.placeOrder(customer.customerId, [WS_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);

    await projectEvents(db, [...placed.events, ...started.events, ...started.events], [ledgerProjection]);

    const all = await rows();
    expect(all).toHaveLength(1);
    expect(all[0]!.partner_id).toBe('');
  });

  it('keeps log order by the numeric position, and a second generation folded from zero holds identical rows', async () => {
    await writeStandardHistory(log);
    const events = await log.allEvents();
    // One entry per event, none for a cancellation that refunds nothing, one per installment a FutureInstallmentsVoided withdraws.
    const entryCount = (event: RecordedEvent): number => {
      if (event.type === 'SubscriptionCancelled') return (event.data['refund'] as Data['amount']).amount === 0 ? 0 : 1;
      if (event.type === 'FutureInstallmentsVoided') return (event.data['installments'] as unknown[]).length;
      return 1;
    };
    const expected = events
      .filter((event) => ledgerProjection.handles.includes(event.type) && event.type !== 'CustomerRegistered')
      .flatMap((event) => Array.from({ length: entryCount(event) }, (_, index) => ({ id: `${event.id}:${index}`, position: positionToString(event.position) })));

    await projectEvents(db, events, [ledgerProjection]);
    const first = await rows();
    // The reader's order: SQL orders by position, ids of one position (one event) by their index.
    expect(first.flatMap(ledgerEntriesOfRow).sort(compareLedgerEntries).map(({ id, position }) => ({ id, position }))).toEqual(expected);
    expect(new Set(first.map((row) => row.kind))).toEqual(new Set(['charge', 'refund', 'void', 'credit']));

    const generations = new ProjectionGenerations(db);
    const fresh = await generations.create(ledgerProjection);
    const runner = generationRunner(log.store, db, ledgerProjection, fresh, { batchSize: 7, until: events.at(-1)!.position });
    await runner.start();
    await runner.stop();
    await generations.activate(ledgerProjection, fresh, { evenIfBehind: true });

    const rebuilt = await rows();
    expect(rebuilt.map(comparable)).toEqual(first.map(comparable));
    expect(rebuilt.flatMap(ledgerEntriesOfRow)).toEqual(first.flatMap(ledgerEntriesOfRow));
  });
});

/** PostgreSQL hands bigints back as strings, SQLite as numbers: compare the values. */
function comparable(row: LedgerEntriesTable) {
  return { ...row, amount: Number(row.amount), position_commit: String(row.position_commit), position_prepare: String(row.position_prepare) };
}

/** A support request submitted and approved at 2025-03-20 for 25.00 EUR, as the decider decides them. */
async function appendDecided(log: CommerceLog, requestId: string, customerId: string): Promise<RecordedEvent[]> {
  const stream = supportRequestStream(requestId);
  const submitted = supportRequestDecider.decide(
    {
      type: 'SubmitSupportRequest',
      requestId,
      partnerId: 'partner-3',
      submittedBy: { userId: 'agent-1' },
      problemType: 'CSP purchase/refund on behalf of customers',
      impact: 'moderate',
      title: 'Refund',
      description: { customerId, orderId: 'order-1', refundReason: 'wrong edition', requestedAmount: { amount: 4000, currency: 'EUR' } },
      contact: { name: 'Alex', email: 'alex@partner.example', phone: '+49 30 1234567' },
      attachments: [],
      at: '2025-03-10T09:00:00.000Z',
    },
    supportRequestDecider.initialState(),
  );
  const state = submitted.reduce(supportRequestDecider.evolve, supportRequestDecider.initialState());
  const approved = supportRequestDecider.decide(
    { type: 'ApproveSupportRequest', amount: { amount: 2500, currency: 'EUR' }, decidedBy: { userId: 'billing-1' }, at: '2025-03-20T09:00:00.000Z' },
    state,
  );
  await log.store.appendToStream(
    stream,
    [...submitted, ...approved].map((event) => ({ id: uuid(), type: event.type, data: event.data as unknown as JsonObject })),
    { expectedRevision: NO_STREAM },
  );
  return log.store.readStream(stream);
}
