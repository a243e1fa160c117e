import { customerStream } from '@csp/domain/customer/customer.events';
import { evolveOrder, type OrderState } from '@csp/domain/order/order.decider';
import { orderStream } from '@csp/domain/order/order.events';
import { subscriptionDecider, type ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream, type SubscriptionEvent } from '@csp/domain/subscription/subscription.events';
import type { RecordedEvent } from '@csp/event-store';
import { v4 as uuid } from 'uuid';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import type { ReadModelDb } from '../schema';
import { subscriptionStateFromStored } from './subscriptions/subscription-state.storage';
import {
  AZURE_MONTHLY,
  CommerceLog,
  OFFICE,
  RHEL_ANNUAL,
  WS_ANNUAL,
  WS_MONTHLY,
  dumpReadModels,
  projectEvents,
  projectLog,
  writeStandardHistory,
} from '@csp/testing/fixtures/commerce-log.fixture';

const asDomainEvent = (event: RecordedEvent) => ({ type: event.type, data: event.data }) as SubscriptionEvent;
const orderFold = { initialState: (): OrderState => ({ status: 'none' }), evolve: evolveOrder };

/** Every event type the projection folds; each has at least one test below named after it. */
const FOLDED_EVENT_TYPES = [
  'CustomerRegistered',
  'OrderPlaced',
  'PerpetualLineCancelled',
  'SubscriptionStarted',
  'InstallmentBilled',
  'AutoRenewChanged',
  'SubscriptionCancelled',
  'FutureInstallmentsVoided',
  'InstallmentVoided',
  'SubscriptionRenewed',
  'SubscriptionExpired',
];
/** Folded as logs written before hold them, no longer recorded: the standard history has none, a test of its own does. */
const RECORDED_BEFORE_EVENT_TYPES = ['InstallmentVoided'];

describe.each(readModelDialects)('read-model projection on $name', (dialect) => {
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

  const orderRow = (id: string) => db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const subscriptionRow = (id: string) =>
    db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const stateOf = <State>(row: { state: string }): State => JSON.parse(row.state) as State;
  const subscriptionStateOf = (row: { state: string }): ExistingSubscriptionState => subscriptionStateFromStored(row.state);
  /** An order row's state as the domain folds it, without the subscription lines the projection adds. */
  const orderStateOf = (row: { state: string }): OrderState => {
    const { subscriptionLines: _lines, ...state } = JSON.parse(row.state) as OrderState & { subscriptionLines?: unknown };
    return state as OrderState;
  };
  const upTo = (events: RecordedEvent[], type: string): RecordedEvent[] => {
    const index = events.findIndex((event) => event.type === type);
    if (index < 0) throw new Error(`no ${type} among ${events.map((event) => event.type).join(', ')}`);
    return events.slice(0, index + 1);
  };
  const currentCustomer = () => log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });

  it('folds a name holding NUL (written before the api refused it) instead of stopping on it', async () => {
    const registered = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', companyName: 'Acme\u0000 Ltd' });

    await projectEvents(db, registered.events);

    const row = await db.selectFrom('customers').selectAll().where('id', '=', registered.customerId).executeTakeFirstOrThrow();
    expect(row.company_name).toBe('Acme\uFFFD Ltd');
  });

  it('CustomerRegistered inserts the customer with every column', async () => {
    const registered = await log.registerCustomer({
      at: '2025-01-10T09:00:00.000Z',
      partnerId: 'partner-7',
      companyName: 'Contoso GmbH',
      domain: 'Contoso.DE',
      country: 'AT',
    });

    await projectEvents(db, registered.events);

    expect(registered.events.map((event) => event.type)).toEqual(['CustomerRegistered']);
    expect(await db.selectFrom('customers').selectAll().execute()).toEqual([
      {
        id: registered.customerId,
        partner_id: 'partner-7',
        company_name: 'Contoso GmbH',
        domain: 'contoso.de',
        country: 'AT',
        registered_at: '2025-01-10T09:00:00.000Z',
        domain_key: 'contoso.de',
        company_name_key: 'contoso gmbh',
      },
    ]);
    expect(await db.selectFrom('orders').selectAll().execute()).toEqual([]);
  });

  it('OrderPlaced inserts the order, owing fulfilment for each subscription line', async () => {
    const customer = await currentCustomer();
    const mixed = await log.placeOrder(customer.customerId, [WS_MONTHLY, OFFICE, RHEL_ANNUAL], '2025-02-01T12:00:00.000Z');
    const perpetualOnly = await log.placeOrder(customer.customerId, [OFFICE], '2025-02-02T12:00:00.000Z');

    await projectEvents(db, [...customer.events, ...mixed.events, ...perpetualOnly.events]);

    const row = await orderRow(mixed.orderId);
    expect(row).toMatchObject({
      customer_id: customer.customerId,
      partner_id: customer.partnerId,
      purchased_at: '2025-02-01T12:00:00.000Z',
      pending_fulfilment: 2,
    });
    expect(stateOf(row)).toEqual({ status: 'placed', order: mixed.order, cancelledLines: {}, subscriptionLines: {} });
    expect(orderStateOf(row)).toEqual(await log.fold(orderStream(mixed.orderId), orderFold));
    expect((await orderRow(perpetualOnly.orderId)).pending_fulfilment).toBe(0);
    expect(await db.selectFrom('subscriptions').selectAll().execute()).toEqual([]);
  });

  it('PerpetualLineCancelled records the cancelled line in the order state and keeps the columns', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [OFFICE, WS_ANNUAL, OFFICE], '2025-02-01T12:00:00.000Z');
    const first = await log.cancelPerpetualLines(placed.orderId, '2025-02-10T08:00:00.000Z', [1]);
    await projectEvents(db, [...customer.events, ...placed.events, ...first.events]);
    const afterFirst = await orderRow(placed.orderId);

    const rest = await log.cancelPerpetualLines(placed.orderId, '2025-02-20T08:00:00.000Z');
    await projectEvents(db, rest.events);
    const afterRest = await orderRow(placed.orderId);

    expect([...first.events, ...rest.events].map((event) => event.type)).toEqual([
      'PerpetualLineCancelled',
      'PerpetualLineCancelled',
    ]);
    expect(orderStateOf(afterFirst)).toEqual({
      status: 'placed',
      order: placed.order,
      cancelledLines: { 1: first.events[0]!.data },
    });
    expect(orderStateOf(afterRest)).toEqual({
      status: 'placed',
      order: placed.order,
      cancelledLines: { 1: first.events[0]!.data, 3: rest.events[0]!.data },
    });
    expect(orderStateOf(afterRest)).toEqual(await log.fold(orderStream(placed.orderId), orderFold));
    expect(afterRest).toMatchObject({ pending_fulfilment: 1, purchased_at: '2025-02-01T12:00:00.000Z' });
  });

  it('SubscriptionStarted inserts an active subscription and settles one line of owed fulfilment', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [WS_MONTHLY, OFFICE, RHEL_ANNUAL], '2025-02-01T12:00:00.000Z');
    const ws = await log.startSubscription(placed, 1);
    const rhel = await log.startSubscription(placed, 3);
    await projectEvents(db, [...customer.events, ...placed.events, ...upTo(ws.events, 'SubscriptionStarted')]);

    const row = await subscriptionRow(placed.subscriptionIds[1]!);
    expect(row).toEqual({
      id: placed.subscriptionIds[1],
      customer_id: customer.customerId,
      partner_id: customer.partnerId,
      order_id: placed.orderId,
      friendly_name: 'Main DC',
      purchased_at: '2025-02-01T12:00:00.000Z',
      legacy: 0,
      status: 'active',
      // The first installment is due at purchase and not yet billed.
      next_due_at: '2025-02-01T12:00:00.000Z',
      state: expect.any(String),
    });
    expect(subscriptionStateOf(row)).toMatchObject({ status: 'active', autoRenewEnabled: true, billedSequences: [] });
    expect(subscriptionStateOf(row)).toEqual(subscriptionDecider.evolve(subscriptionDecider.initialState(), asDomainEvent(ws.events[0]!)));
    expect((await orderRow(placed.orderId)).pending_fulfilment).toBe(1);
    const linesOf = async () => stateOf<{ subscriptionLines: Record<string, string> }>(await orderRow(placed.orderId)).subscriptionLines;
    expect(await linesOf()).toEqual({ [placed.subscriptionIds[1]!]: 'provisioned' });

    await projectEvents(db, [...ws.events.slice(1), ...rhel.events]);
    expect((await orderRow(placed.orderId)).pending_fulfilment).toBe(0);
    expect(await linesOf()).toEqual({ [placed.subscriptionIds[1]!]: 'provisioned', [placed.subscriptionIds[3]!]: 'provisioned' });
    expect(await subscriptionRow(placed.subscriptionIds[3]!)).toMatchObject({
      friendly_name: 'Red Hat Enterprise Linux Server',
      status: 'active',
      legacy: 0,
    });
    expect(await db.selectFrom('subscriptions').select('id').execute()).toHaveLength(2);
  });

  it('SubscriptionStarted marks purchases before 2021-10-14T00:00Z as legacy without autorenew', async () => {
    const customer = await log.registerCustomer({ at: '2021-01-01T00:00:00.000Z' });
    const before = await log.placeOrder(customer.customerId, [WS_ANNUAL], '2021-10-13T23:59:59.999Z');
    const at = await log.placeOrder(customer.customerId, [WS_ANNUAL], '2021-10-14T00:00:00.000Z');
    const started = [...(await log.startSubscriptions(before)).events, ...(await log.startSubscriptions(at)).events];
    await projectEvents(db, [...customer.events, ...before.events, ...at.events, ...started]);

    const legacy = await subscriptionRow(before.subscriptionIds[1]!);
    const current = await subscriptionRow(at.subscriptionIds[1]!);
    expect(legacy.legacy).toBe(1);
    expect(subscriptionStateOf(legacy)).toMatchObject({ autoRenewEnabled: false, profile: { legacy: true } });
    expect(current.legacy).toBe(0);
    expect(subscriptionStateOf(current)).toMatchObject({ autoRenewEnabled: true, profile: { legacy: false } });
  });

  it('InstallmentBilled adds to the charged amount and moves next_due_at to the next unbilled installment', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [WS_MONTHLY, RHEL_ANNUAL], '2025-01-31T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    await projectEvents(db, [...customer.events, ...placed.events, ...started.events]);
    const ws = placed.subscriptionIds[1]!;

    const afterFirst = await subscriptionRow(ws);
    expect(afterFirst.next_due_at).toBe('2025-02-28T12:00:00.000Z');
    const firstState = subscriptionStateOf(afterFirst);
    expect(firstState.billedSequences).toEqual([1]);
    expect(firstState.chargedForTerm).toEqual(started.events[1]!.data['amount']);
    // Annual: the one installment is billed at purchase, so only the term end is left.
    expect((await subscriptionRow(placed.subscriptionIds[2]!)).next_due_at).toBe('2026-01-31T12:00:00.000Z');

    const advanced = await log.advanceLifecycle(ws, '2025-04-15T00:00:00.000Z');
    await projectEvents(db, advanced.events);

    expect(advanced.events.map((event) => [event.type, event.data['sequence']])).toEqual([
      ['InstallmentBilled', 2],
      ['InstallmentBilled', 3],
    ]);
    const row = await subscriptionRow(ws);
    expect(row).toMatchObject({ status: 'active', next_due_at: '2025-04-30T12:00:00.000Z' });
    // 2 × 365 000 split into 12: 60 837 first (it takes the remainder), 60 833 each after.
    expect(subscriptionStateOf(row)).toMatchObject({ billedSequences: [1, 2, 3], chargedForTerm: { amount: 60_837 + 2 * 60_833, currency: 'EUR' } });
    expect(subscriptionStateOf(row)).toEqual(await log.fold(subscriptionStream(ws), subscriptionDecider));
  });

  it('AutoRenewChanged switches autorenew in the state and leaves status and next_due_at alone', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [WS_ANNUAL], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const id = placed.subscriptionIds[1]!;
    await projectEvents(db, [...customer.events, ...placed.events, ...started.events]);
    const before = await subscriptionRow(id);

    const off = await log.changeAutoRenew(id, false, '2025-03-01T10:00:00.000Z');
    await projectEvents(db, off.events);
    const afterOff = await subscriptionRow(id);
    const on = await log.changeAutoRenew(id, true, '2025-04-01T10:00:00.000Z');
    await projectEvents(db, on.events);
    const afterOn = await subscriptionRow(id);

    expect([...off.events, ...on.events].map((event) => event.type)).toEqual(['AutoRenewChanged', 'AutoRenewChanged']);
    expect(subscriptionStateOf(afterOff)).toMatchObject({ autoRenewEnabled: false, status: 'active' });
    expect(afterOff).toMatchObject({ status: 'active', next_due_at: before.next_due_at, legacy: 0 });
    expect(subscriptionStateOf(afterOn)).toEqual(subscriptionStateOf(before));
    expect(afterOn).toEqual(before);
  });

  it('SubscriptionCancelled sets status cancelled, clears next_due_at and keeps the cancellation', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const id = placed.subscriptionIds[1]!;
    const cancelled = await log.cancelSubscription(id, '2025-02-03T10:00:00.000Z');
    await projectEvents(db, [...customer.events, ...placed.events, ...started.events, ...upTo(cancelled.events, 'SubscriptionCancelled')]);

    const row = await subscriptionRow(id);
    expect(row).toMatchObject({ status: 'cancelled', next_due_at: null, legacy: 0, order_id: placed.orderId });
    expect(subscriptionStateOf(row)).toMatchObject({ status: 'cancelled', cancellation: cancelled.events[0]!.data });
    // The order follows its line: provisioned when it started, cancelled now.
    const orderState = stateOf<{ subscriptionLines: Record<string, string> }>(await orderRow(placed.orderId));
    expect(orderState.subscriptionLines).toEqual({ [id]: 'cancelled' });
  });

  /** The two ways a cancellation's voids are in a log: one event now, one per installment before the twenty-fourth round. */
  const voidsRecorded = {
    FutureInstallmentsVoided: {
      cancel: (id: string, at: string) => log.cancelSubscription(id, at),
      types: ['FutureInstallmentsVoided'],
      sequences: (voided: RecordedEvent[]) => (voided[0]!.data['installments'] as { sequence: number }[]).map((installment) => installment.sequence),
    },
    'InstallmentVoided, one per installment as logs before the twenty-fourth round hold them,': {
      cancel: (id: string, at: string) => log.cancelSubscriptionOneVoidPerEvent(id, at),
      types: Array<string>(11).fill('InstallmentVoided'),
      sequences: (voided: RecordedEvent[]) => voided.map((event) => event.data['sequence']),
    },
  };

  it.each(Object.entries(voidsRecorded))('%s leaves the cancelled subscription as SubscriptionCancelled left it', async (_, recorded) => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const id = placed.subscriptionIds[1]!;
    const cancelled = await recorded.cancel(id, '2025-02-03T10:00:00.000Z');
    const [cancellation, ...voided] = cancelled.events;
    await projectEvents(db, [...customer.events, ...placed.events, ...started.events, cancellation!]);
    const afterCancellation = await subscriptionRow(id);

    await projectEvents(db, voided);

    expect(voided.map((event) => event.type)).toEqual(recorded.types);
    expect(recorded.sequences(voided)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const row = await subscriptionRow(id);
    expect(row).toEqual(afterCancellation);
    expect(subscriptionStateOf(row)).toEqual(await log.fold(subscriptionStream(id), subscriptionDecider));
  });

  it('SubscriptionRenewed starts the next term at its new price with nothing billed yet', async () => {
    const customer = await currentCustomer();
    const placed = await log.placeOrder(customer.customerId, [WS_ANNUAL], '2025-02-01T12:00:00.000Z');
    const started = await log.startSubscriptions(placed);
    const id = placed.subscriptionIds[1]!;
    const renewal = await log.advanceLifecycle(id, '2026-02-10T00:00:00.000Z', { amount: 400_000, currency: 'EUR' });
    await projectEvents(db, [...customer.events, ...placed.events, ...started.events, ...upTo(renewal.events, 'SubscriptionRenewed')]);

    expect(renewal.events.map((event) => event.type)).toEqual(['SubscriptionRenewed', 'InstallmentBilled']);
    const renewed = await subscriptionRow(id);
    expect(renewed).toMatchObject({ status: 'active', next_due_at: '2026-02-01T12:00:00.000Z', purchased_at: '2025-02-01T12:00:00.000Z' });
    expect(subscriptionStateOf(renewed)).toMatchObject({
      status: 'active',
      term: { number: 2, start: '2026-02-01T12:00:00.000Z', end: '2027-02-01T12:00:00.000Z', price: { amount: 400_000, currency: 'EUR' } },
      billedSequences: [],
      chargedForTerm: { amount: 0, currency: 'EUR' },
    });

    await projectEvents(db, renewal.events.slice(1));
    const billed = await subscriptionRow(id);
    expect(billed.next_due_at).toBe('2027-02-01T12:00:00.000Z');
    expect(subscriptionStateOf(billed)).toEqual(await log.fold(subscriptionStream(id), subscriptionDecider));
  });

  it('SubscriptionExpired ends a legacy subscription and one with autorenew off at term end', async () => {
    const legacyCustomer = await log.registerCustomer({ at: '2020-05-01T08:00:00.000Z' });
    const legacyOrder = await log.placeOrder(legacyCustomer.customerId, [WS_ANNUAL], '2020-06-01T10:00:00.000Z');
    const customer = await currentCustomer();
    const order = await log.placeOrder(customer.customerId, [RHEL_ANNUAL], '2025-02-01T12:00:00.000Z');
    const legacyId = legacyOrder.subscriptionIds[1]!;
    const rhelId = order.subscriptionIds[1]!;
    const history = [
      ...legacyCustomer.events,
      ...legacyOrder.events,
      ...(await log.startSubscriptions(legacyOrder)).events,
      ...customer.events,
      ...order.events,
      ...(await log.startSubscriptions(order)).events,
      ...(await log.changeAutoRenew(rhelId, false, '2025-03-01T00:00:00.000Z')).events,
    ];
    const legacyExpiry = await log.advanceLifecycle(legacyId, '2021-07-01T00:00:00.000Z');
    const rhelExpiry = await log.advanceLifecycle(rhelId, '2026-02-01T12:00:00.000Z');

    await projectEvents(db, [...history, ...legacyExpiry.events, ...rhelExpiry.events]);

    expect([...legacyExpiry.events, ...rhelExpiry.events].map((event) => event.type)).toEqual([
      'SubscriptionExpired',
      'SubscriptionExpired',
    ]);
    const legacy = await subscriptionRow(legacyId);
    expect(legacy).toMatchObject({ status: 'expired', next_due_at: null, legacy: 1 });
    expect(subscriptionStateOf(legacy)).toMatchObject({ status: 'expired', expiredAt: '2021-06-01T10:00:00.000Z' });
    const rhel = await subscriptionRow(rhelId);
    expect(rhel).toMatchObject({ status: 'expired', next_due_at: null, legacy: 0 });
    expect(subscriptionStateOf(rhel)).toMatchObject({ status: 'expired', expiredAt: '2026-02-01T12:00:00.000Z', autoRenewEnabled: false });
  });

  it('folds the standard history into the same states the domain folds from each stream', async () => {
    await writeStandardHistory(log);
    const events = await log.allEvents();
    await projectEvents(db, events);

    expect(new Set(events.map((event) => event.type))).toEqual(new Set(FOLDED_EVENT_TYPES.filter((type) => !RECORDED_BEFORE_EVENT_TYPES.includes(type))));
    const customers = await db.selectFrom('customers').select('id').execute();
    expect(customers).toHaveLength(3);
    for (const { id } of customers) expect((await log.store.readStream(customerStream(id))).length).toBe(1);
    const orders = await db.selectFrom('orders').selectAll().execute();
    expect(orders).toHaveLength(3);
    for (const row of orders) expect(orderStateOf(row)).toEqual(await log.fold(orderStream(row.id), orderFold));
    // The SQL Server order was never fulfilled: its one subscription line is still owed.
    expect(orders.map((row) => row.pending_fulfilment).sort()).toEqual([0, 0, 1]);
    const subscriptions = await db.selectFrom('subscriptions').selectAll().execute();
    expect(subscriptions.map((row) => row.status).sort()).toEqual(['active', 'cancelled', 'expired', 'expired']);
    for (const row of subscriptions) {
      expect(subscriptionStateOf(row)).toEqual(await log.fold(subscriptionStream(row.id), subscriptionDecider));
    }
  });

  it('folds a batch into the same rows as one event at a time, whatever the batch size', async () => {
    await writeStandardHistory(log);
    await projectEvents(db, await log.allEvents());
    const rowsOf = async (target: ReadModelDb) => {
      const { checkpoints: _, ...rows } = await dumpReadModels(target);
      return {
        ...rows,
        ledger: await target.selectFrom('ledger_entries').selectAll().orderBy('id').execute(),
        ledgerCustomers: await target.selectFrom('ledger_customers').selectAll().orderBy('customer_id').execute(),
        ledgerCustomerPositions: await target.selectFrom('ledger_customer_positions').selectAll().orderBy('customer_id').orderBy('position_commit').execute(),
        feed: await target.selectFrom('integration_events').selectAll().orderBy('id').execute(),
        feedCustomers: await target.selectFrom('integration_event_customers').selectAll().orderBy('customer_id').execute(),
      };
    };
    const oneAtATime = await rowsOf(db);
    expect(oneAtATime.subscriptions).toHaveLength(4);
    expect(oneAtATime.ledger.length).toBeGreaterThan(3);
    expect(oneAtATime.feed.length).toBeGreaterThan(3);
    expect(oneAtATime.feed.every((row) => row.partner_id !== '')).toBe(true);

    for (const batchSize of [2, 5, 500]) {
      const batched = await dialect.open();
      try {
        await projectLog(log.store, batched.db, batchSize);
        expect({ batchSize, rows: await rowsOf(batched.db) }).toEqual({ batchSize, rows: oneAtATime });
      } finally {
        await batched.cleanup();
      }
    }
  });

  it('ignores event types it does not fold', async () => {
    const customer = await currentCustomer();
    await log.store.appendToStream('note-1', [{ id: uuid(), type: 'PartnerNoteAdded', data: { customerId: customer.customerId } }], {
      expectedRevision: 'no_stream',
    });
    await projectEvents(db, await log.allEvents());

    expect(await db.selectFrom('customers').select('id').execute()).toEqual([{ id: customer.customerId }]);
    expect(await db.selectFrom('orders').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('subscriptions').select('id').execute()).toEqual([]);
  });
});
