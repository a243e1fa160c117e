import { E2eApp } from '../support/e2e-harness';
import { addDays, addMs, addYears } from './support/calendar';
import { buy, eventCount, expectedRefund, expectProblem, get, logPosition, ofType, registerCustomer, SKU, unitPrice } from './support/e2e-support';

/**
 * Time passes between scheduler runs (a minute by default, longer if the projector is down). A
 * command in that gap must be decided on the term that is really current, and a view must show it:
 * the clock is moved here without waking the scheduler (`notify: false`).
 */
describe('commands and views between a term end and the next scheduler run', () => {
  let app: E2eApp;
  let admin: string;
  const purchasedAt = '2026-05-04T08:00:00.000Z';
  const termEnd = addYears(purchasedAt, 1);

  beforeEach(async () => {
    app = await E2eApp.start({ now: purchasedAt });
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterEach(() => app.stop());

  async function annualSubscription(): Promise<{ customerId: string; path: string; subscriptionId: string; position: string }> {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' }]);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    return { customerId: customer.id, subscriptionId, path: `/v1/customers/${customer.id}/subscriptions/${subscriptionId}`, position: logPosition(order) };
  }

  it('shows the renewed term and accepts a cancellation in its first 7 days, refunded on that term', async () => {
    const { path, subscriptionId, position } = await annualSubscription();
    const at = addDays(termEnd, 1);
    app.clock.set(at, { notify: false });

    const view = await get(app, path, admin, position);
    expect(view.body).toMatchObject({ termNumber: 2, termStartDate: termEnd, status: 'active', cancellable: true });

    const cancelled = await app.http().patch(path).set('Authorization', admin).send({ status: 'cancelled' });
    expect(cancelled.status).toBe(200);
    const termPrice = unitPrice(SKU.datacenter1y, 'DE').amount * 2;
    const expected = expectedRefund({ termStart: termEnd, termEnd: addYears(termEnd, 1), termPrice, charged: termPrice, at });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', termNumber: 2, refund: { amount: expected.refund, currency: 'EUR' } });

    // The renewal and its charge were appended with the cancellation, once; the scheduler adds nothing.
    const events = await app.events();
    expect(ofType(events, 'SubscriptionRenewed', subscriptionId)).toHaveLength(1);
    expect(ofType(events, 'InstallmentBilled', subscriptionId).map((event) => event.data['termNumber'])).toEqual([1, 2]);
    const before = await eventCount(app);
    await app.runScheduler();
    expect(await eventCount(app)).toBe(before);
  });

  it('refuses switching autorenew on after a term that was set to expire has ended: it expired', async () => {
    const { path, subscriptionId } = await annualSubscription();
    const switchedOff = await app.http().patch(path).set('Authorization', admin).send({ autoRenewEnabled: false });
    expect(switchedOff.status).toBe(200);
    app.clock.set(addMs(termEnd, 6 * 60 * 60 * 1000), { notify: false });

    expect((await get(app, path, admin, logPosition(switchedOff))).body).toMatchObject({ status: 'expired', expirationDate: termEnd });
    const before = await eventCount(app);
    expectProblem(await app.http().patch(path).set('Authorization', admin).send({ autoRenewEnabled: true }), 422, 'AUTORENEW_NOT_AVAILABLE');
    expect(await eventCount(app)).toBe(before);

    await app.runScheduler();
    const events = await app.events();
    expect(ofType(events, 'SubscriptionExpired', subscriptionId)).toHaveLength(1);
    expect(ofType(events, 'SubscriptionRenewed', subscriptionId)).toHaveLength(0);
  });

  it('switching autorenew off after the term renewed applies to the new term, not the ended one', async () => {
    const { path, subscriptionId } = await annualSubscription();
    app.clock.set(addMs(termEnd, 6 * 60 * 60 * 1000), { notify: false });

    const changed = await app.http().patch(path).set('Authorization', admin).send({ autoRenewEnabled: false });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ status: 'active', termNumber: 2, autoRenewEnabled: false });
    const events = await app.events();
    expect(ofType(events, 'SubscriptionRenewed', subscriptionId)).toHaveLength(1);
    expect(ofType(events, 'SubscriptionExpired', subscriptionId)).toHaveLength(0);
  });
});
