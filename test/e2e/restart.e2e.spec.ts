import { E2eApp } from '../support/e2e-harness';
import type { RecordedEvent } from '@csp/event-store';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCrashingApp } from './support/crashing-app';
import { calendarUntil, DAY_MS, type InstallmentCycle } from './support/calendar';
import { commitOf, ofType, placeOrder, registerCustomer, SKU, termYears, type LineItemRequest } from './support/e2e-support';

/**
 * The service keeps nothing that matters in memory: a restart on the same DATA_DIR answers as
 * before, and a deleted read store is rebuilt from the log alone.
 */
describe('restart on the same data directory', () => {
  const now = '2026-03-02T10:00:00.000Z';
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-e2e-restart-'));
  let app: E2eApp | undefined;
  let admin: string;
  let customerId: string;
  let orderIds: string[] = [];
  let subscriptionIds: string[] = [];
  let perpetualOrderId: string;

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Everything a partner can read about the customer, as plain JSON. */
  async function snapshot(running: E2eApp) {
    const get = async (path: string) => {
      const response = await running.http().get(path).set('Authorization', admin);
      expect(response.status).toBe(200);
      return response.body;
    };
    const base = `/v1/customers/${customerId}`;
    return {
      customer: await get(base),
      orders: await get(`${base}/orders`),
      subscriptions: await get(`${base}/subscriptions`),
      eachOrder: await Promise.all(orderIds.map((id) => get(`${base}/orders/${id}`))),
      eachSubscription: await Promise.all(subscriptionIds.map((id) => get(`${base}/subscriptions/${id}`))),
    };
  }

  async function headCommit(running: E2eApp): Promise<bigint> {
    const events = await running.events();
    return events.at(-1)!.position.commit;
  }

  it('lists orders, subscriptions and statuses as before, and new commands continue the log', async () => {
    app = await E2eApp.start({ dataDir, now });
    admin = await app.token({ roles: ['AdminAgent'] });
    customerId = (await registerCustomer(app, { token: admin, companyName: 'Restart GmbH' })).id;
    const first = await placeOrder(app, customerId, [
      { skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' },
      { skuId: SKU.rdsCal, quantity: 10, billingCycle: 'monthly' },
    ]);
    const second = await placeOrder(app, customerId, [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'monthly' }]);
    const perpetual = await placeOrder(app, customerId, [{ skuId: SKU.office, quantity: 3, billingCycle: 'oneTime' }]);
    perpetualOrderId = perpetual.id;
    orderIds = [first.id, second.id, perpetual.id];
    subscriptionIds = [...first.subscriptionIds, ...second.subscriptionIds];
    expect(subscriptionIds).toHaveLength(3);

    app.clock.advanceDays(2);
    const base = `/v1/customers/${customerId}`;
    await app.http().patch(`${base}/subscriptions/${second.subscriptionIds[0]}`).set('Authorization', admin).send({ status: 'cancelled' }).expect(200);
    await app.http().patch(`${base}/subscriptions/${first.subscriptionIds[0]}`).set('Authorization', admin).send({ autoRenewEnabled: false }).expect(200);
    const lastCommand = await app.http().patch(`${base}/orders/${perpetual.id}`).set('Authorization', admin).send({ status: 'cancelled' }).expect(200);
    await app.runScheduler();

    const before = await snapshot(app);
    const statusById = Object.fromEntries(before.subscriptions.items.map((item: { id: string; status: string }) => [item.id, item.status]));
    expect(statusById).toEqual({
      [first.subscriptionIds[0]!]: 'active',
      [first.subscriptionIds[1]!]: 'active',
      [second.subscriptionIds[0]!]: 'cancelled',
    });
    expect(before.eachSubscription[0].autoRenewEnabled).toBe(false);
    expect(before.eachSubscription[1].autoRenewEnabled).toBe(true);
    expect(before.orders.totalCount).toBe(3);
    expect(before.eachOrder[2].status).toBe('cancelled');
    const eventsBefore = await app.events();
    const lastPosition = commitOf(lastCommand.headers['x-log-position']);

    await app.stop({ keepData: true });
    app = await E2eApp.start({ dataDir, now: '2026-03-04T10:00:00.000Z' });
    await app.runScheduler();

    // Same answers, and the restart itself (with its start-up catch-up) appended nothing.
    expect(await snapshot(app)).toEqual(before);
    expect(await app.events()).toHaveLength(eventsBefore.length);

    // The state behind the answers survived too: the commands still see it.
    const again = await app.http().patch(`${base}/subscriptions/${second.subscriptionIds[0]}`).set('Authorization', admin).send({ status: 'cancelled' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_CANCELLED');
    const perpetualAgain = await app.http().patch(`${base}/orders/${perpetualOrderId}`).set('Authorization', admin).send({ status: 'cancelled' });
    expect(perpetualAgain.status).toBe(409);
    expect(perpetualAgain.body.code).toBe('ALREADY_CANCELLED');

    // New commands work and their positions come after everything written before the restart.
    const toggled = await app.http().patch(`${base}/subscriptions/${first.subscriptionIds[0]}`).set('Authorization', admin).send({ autoRenewEnabled: true }).expect(200);
    expect(commitOf(toggled.headers['x-log-position'])).toBeGreaterThan(lastPosition);
    const third = await placeOrder(app, customerId, [{ skuId: SKU.sqlStandard3y, quantity: 1, billingCycle: 'triennial' }]);
    expect(commitOf(third.position)).toBeGreaterThan(commitOf(toggled.headers['x-log-position']));
    orderIds.push(third.id);
    subscriptionIds.push(...third.subscriptionIds);

    const events = await app.events();
    expect(events.slice(0, eventsBefore.length).map((event) => event.id)).toEqual(eventsBefore.map((event) => event.id));
    const positions = events.map((event) => event.position.commit);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(positions).size).toBe(positions.length);

    const list = await app.http().get(`${base}/subscriptions`).set('Authorization', admin).set('X-Min-Position', third.position).expect(200);
    expect(list.body.totalCount).toBe(4);
    const orders = await app.http().get(`${base}/orders`).set('Authorization', admin).set('X-Min-Position', third.position).expect(200);
    expect(orders.body.items.map((order: { id: string }) => order.id).sort()).toEqual([...orderIds].sort());
  });

  it('rebuilds the read models from the log when read-models.db is deleted', async () => {
    const running = app!;
    await running.runScheduler();
    const before = await snapshot(running);
    const head = await headCommit(running);
    await running.stop({ keepData: true });
    app = undefined;

    await E2eApp.discardReadModels(dataDir);
    expect(await E2eApp.hasReadModels(dataDir)).toBe(false);
    // The log itself stays (SQLite file, or the EventStoreDB test server's file in the esdb jest project).
    expect(existsSync(join(dataDir, 'events.db')) || existsSync(join(dataDir, 'esdb-log.jsonl'))).toBe(true);

    app = await E2eApp.start({ dataDir, now: '2026-03-04T10:00:00.000Z' });
    await app.runScheduler();
    expect(await E2eApp.hasReadModels(dataDir)).toBe(true);
    expect(await snapshot(app)).toEqual(before);
    expect(await headCommit(app)).toBe(head);
    expect(before.subscriptions.totalCount).toBe(4);

    // And a customer name still resolves (the lookup goes through the rebuilt read model).
    await app.http().get('/v1/customers/Restart GmbH/subscriptions').set('Authorization', admin).expect(200);
  });
});

/**
 * 30 subscriptions bought at T0; the service comes back three years later and must catch up on
 * ~3 years of renewals, expiries and installments. The first instance crashes half-way through the
 * catch-up (see support/crashing-app.ts for how and why the crash is simulated in the event store,
 * not with app.stop(), which waits for the pass in flight). The next instance on the same DATA_DIR
 * must finish from the log: every renewal and installment exactly once, as many as the calendar says.
 */
describe('a crash in the middle of a lifecycle catch-up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-e2e-catch-up-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  interface Planned {
    id: string;
    purchasedAt: string;
    years: number;
    cycle: InstallmentCycle;
    autoRenew: boolean;
  }

  it('finishes the interrupted catch-up after a restart: each renewal and installment exactly once', async () => {
    const t0 = '2026-03-10T09:00:00.000Z';
    const t1 = '2029-04-01T00:00:00.000Z';
    const first = await E2eApp.start({ dataDir, now: t0 });
    const admin = await first.token({ roles: ['AdminAgent'] });
    const customerId = (await registerCustomer(first, { token: admin })).id;
    const planned: Planned[] = [];
    for (let orderIndex = 0; orderIndex < 6; orderIndex++) {
      if (orderIndex > 0) first.clock.advanceMs(DAY_MS + 3 * 60 * 60 * 1000);
      const lines: LineItemRequest[] = [
        { skuId: SKU.rdsCal, quantity: orderIndex + 1, billingCycle: 'monthly' },
        { skuId: SKU.standard1y, quantity: 2, billingCycle: 'monthly' },
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.sqlStandard3y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.sqlStandard3y, quantity: 1, billingCycle: 'triennial' },
      ];
      const order = await placeOrder(first, customerId, lines);
      order.subscriptionIds.forEach((id, index) =>
        planned.push({
          id,
          purchasedAt: first.clock.now(),
          years: termYears(lines[index]!.skuId),
          cycle: lines[index]!.billingCycle as Planned['cycle'],
          autoRenew: true,
        }),
      );
    }
    expect(planned).toHaveLength(30);
    // A few do not autorenew, so expiries are part of the catch-up too.
    for (const index of [25, 27, 23]) {
      await first
        .http()
        .patch(`/v1/customers/${customerId}/subscriptions/${planned[index]!.id}`)
        .set('Authorization', admin)
        .send({ autoRenewEnabled: false })
        .expect(200);
      planned[index]!.autoRenew = false;
    }
    await first.runScheduler();
    const beforeCatchUp = (await first.events()).length;
    await first.stop({ keepData: true });

    const expected = new Map(planned.map((plan) => [plan.id, calendarUntil({ ...plan, now: t1 })]));
    const totals = (pick: (outcome: ReturnType<typeof calendarUntil>) => number) =>
      [...expected.values()].reduce((sum, outcome) => sum + pick(outcome), 0);
    // Sanity of the scenario itself: 3 renewals of each of the 16 autorenewing P1Y, 1 of each of the 11 autorenewing P3Y, 3 expiries.
    expect(totals((outcome) => outcome.renewals.length)).toBe((18 - 2) * 3 + (12 - 1));
    expect(totals((outcome) => (outcome.expiredAt ? 1 : 0))).toBe(3);

    // Three years later; the start-up catch-up crashes at the 10th append.
    const crashing = await startCrashingApp({ dataDir, now: t1, crashAtAppend: 10 });
    let timer: NodeJS.Timeout | undefined;
    let afterCrash: RecordedEvent[];
    try {
      await Promise.race([
        crashing.store.crashed,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the catch-up never reached the crash point')), 4_000))),
      ]);
      afterCrash = await crashing.e2e.events();
    } finally {
      clearTimeout(timer);
      await crashing.e2e.stop();
    }

    // The crash left the work partly done: some subscriptions caught up, most not touched at all.
    const touched = new Set(afterCrash.slice(beforeCatchUp).map((event) => event.streamName));
    expect(crashing.store.committedAppends).toBe(10);
    expect(touched.size).toBeGreaterThan(0);
    expect(touched.size).toBeLessThan(30);
    const renewalsSoFar = ofType(afterCrash, 'SubscriptionRenewed').length;
    expect(renewalsSoFar).toBeGreaterThan(0);
    expect(renewalsSoFar).toBeLessThan(totals((outcome) => outcome.renewals.length));

    // Restart on the same directory. Its start-up pass finishes the catch-up on its own (no
    // runScheduler call yet); then the scheduler runs twice more and finds nothing left.
    const second = await E2eApp.start({ dataDir, now: t1 });
    try {
      const expectedEventCount =
        beforeCatchUp +
        totals((outcome) => outcome.renewals.length + outcome.installments.length + (outcome.expiredAt ? 1 : 0)) -
        30; // the first installment of each subscription was billed at purchase, before the catch-up
      const deadline = Date.now() + 4_000;
      while ((await second.events()).length < expectedEventCount && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await second.events()).toHaveLength(expectedEventCount);
      await second.runScheduler();
      const events = await second.events();
      expect(events).toHaveLength(expectedEventCount);
      await second.runScheduler();
      expect(await second.events()).toHaveLength(events.length);
      expect(events.slice(0, afterCrash.length).map((event) => event.id)).toEqual(afterCrash.map((event) => event.id));

      for (const plan of planned) {
        const outcome = expected.get(plan.id)!;
        const renewals = ofType(events, 'SubscriptionRenewed', plan.id).map((event) => (event.data['term'] as { number: number }).number);
        expect({ id: plan.id, renewals }).toEqual({ id: plan.id, renewals: outcome.renewals });
        const installments = ofType(events, 'InstallmentBilled', plan.id).map((event) => `${event.data['termNumber']}.${event.data['sequence']}`);
        expect({ id: plan.id, installments }).toEqual({ id: plan.id, installments: outcome.installments });
        const expiries = ofType(events, 'SubscriptionExpired', plan.id).map((event) => event.data['expiredAt']);
        expect(expiries).toEqual(outcome.expiredAt ? [outcome.expiredAt] : []);
      }
      // Exactly once, across the whole log.
      const renewalKeys = ofType(events, 'SubscriptionRenewed').map((event) => `${event.data['subscriptionId']}#${(event.data['term'] as { number: number }).number}`);
      expect(new Set(renewalKeys).size).toBe(renewalKeys.length);
      expect(renewalKeys).toHaveLength(totals((outcome) => outcome.renewals.length));
      const installmentKeys = ofType(events, 'InstallmentBilled').map(
        (event) => `${event.data['subscriptionId']}#${event.data['termNumber']}#${event.data['sequence']}`,
      );
      expect(new Set(installmentKeys).size).toBe(installmentKeys.length);
      expect(installmentKeys).toHaveLength(totals((outcome) => outcome.installments.length));

      // And the read side agrees: current term and status of every subscription.
      const list = await second.http().get(`/v1/customers/${customerId}/subscriptions`).set('Authorization', admin).expect(200);
      const byId = new Map((list.body.items as Array<{ id: string; termNumber: number; status: string }>).map((item) => [item.id, item]));
      for (const plan of planned) {
        const outcome = expected.get(plan.id)!;
        expect({ id: plan.id, termNumber: byId.get(plan.id)?.termNumber, status: byId.get(plan.id)?.status }).toEqual({
          id: plan.id,
          termNumber: outcome.termNumber,
          status: outcome.expiredAt ? 'expired' : 'active',
        });
      }
    } finally {
      await second.stop();
    }
  });
});
