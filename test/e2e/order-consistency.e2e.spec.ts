import { E2eApp } from '../support/e2e-harness';
import { get, getSubscription, logPosition, placeOrder, registerCustomer, SKU } from './support/e2e-support';

/** An order's status follows its lines, and what is cancelled shows nothing that no longer applies. */
describe('order and subscription views stay consistent', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const cancelSubscription = (customerId: string, subscriptionId: string) =>
    app.http().patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', admin).send({ status: 'cancelled' });

  const getOrder = async (customerId: string, orderId: string, position: string) => {
    const response = await get(app, `/v1/customers/${customerId}/orders/${orderId}`, admin, position);
    expect(response.status).toBe(200);
    return response.body as { status: string; lineItems: Array<Record<string, unknown>> };
  };

  it('answers a purchase with every subscription line provisioned and the order completed', async () => {
    const customer = await registerCustomer(app);
    const response = await app
      .http()
      .post(`/v1/customers/${customer.id}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }, { skuId: SKU.standard1y, quantity: 2, billingCycle: 'annual' }] });
    expect(response.status).toBe(201);
    expect(response.body.status).toBe('completed');
    expect(response.body.lineItems.map((line: { status: string }) => line.status)).toEqual(['provisioned', 'provisioned']);
  });

  it('marks an order cancelled once every subscription line is, and only then', async () => {
    const customer = await registerCustomer(app);
    const order = await placeOrder(app, customer.id, [
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      { skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' },
    ]);
    const first = await cancelSubscription(customer.id, order.subscriptionIds[0]!);
    expect(first.status).toBe(200);
    const halfway = await getOrder(customer.id, order.id, logPosition(first));
    expect({ status: halfway.status, lines: halfway.lineItems.map((line) => line['status']) }).toEqual({ status: 'completed', lines: ['cancelled', 'provisioned'] });

    const second = await cancelSubscription(customer.id, order.subscriptionIds[1]!);
    expect(second.status).toBe(200);
    const all = await getOrder(customer.id, order.id, logPosition(second));
    expect({ status: all.status, lines: all.lineItems.map((line) => line['status']) }).toEqual({ status: 'cancelled', lines: ['cancelled', 'cancelled'] });
  });

  it('marks a mixed order cancelled when its perpetual and its subscription lines are cancelled', async () => {
    const customer = await registerCustomer(app);
    const order = await placeOrder(app, customer.id, [
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
    ]);
    const perpetual = await app.http().patch(`/v1/customers/${customer.id}/orders/${order.id}`).set('Authorization', admin).send({ status: 'cancelled' });
    expect(perpetual.status).toBe(200);
    expect(perpetual.body.status).toBe('completed');
    const subscription = await cancelSubscription(customer.id, order.subscriptionIds[0]!);
    expect(subscription.status).toBe(200);
    expect((await getOrder(customer.id, order.id, logPosition(subscription))).status).toBe('cancelled');
  });

  it('shows a cancelled perpetual line without its window or days left', async () => {
    const customer = await registerCustomer(app);
    const order = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    const cancelled = await app.http().patch(`/v1/customers/${customer.id}/orders/${order.id}`).set('Authorization', admin).send({ status: 'cancelled' });
    expect(cancelled.status).toBe(200);
    for (const line of [cancelled.body.lineItems[0], (await getOrder(customer.id, order.id, logPosition(cancelled))).lineItems[0]!]) {
      expect(line).toMatchObject({ status: 'cancelled', cancellable: false, keyAvailable: false, credit: expect.any(Object) });
      expect(Object.keys(line)).not.toEqual(expect.arrayContaining(['cancellationAllowedUntil']));
      expect(line).not.toHaveProperty('cancellationDaysLeft');
      expect(line).not.toHaveProperty('cancellationWindowPassed');
    }
  });

  it('shows a cancelled subscription without autorenew or a cancellation window', async () => {
    const customer = await registerCustomer(app);
    const order = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const before = await getSubscription(app, customer.id, order.subscriptionIds[0]!, admin, order.position);
    expect(before).toMatchObject({ status: 'active', autoRenewEnabled: true, cancellable: true, cancellationWindowPassed: false });
    const cancelled = await cancelSubscription(customer.id, order.subscriptionIds[0]!);
    expect(cancelled.status).toBe(200);
    for (const view of [cancelled.body, await getSubscription(app, customer.id, order.subscriptionIds[0]!, admin, logPosition(cancelled))]) {
      expect(view).toMatchObject({ status: 'cancelled', autoRenewEnabled: false, cancellable: false, refund: expect.any(Object) });
      expect(view).not.toHaveProperty('cancellationAllowedUntil');
      expect(view).not.toHaveProperty('cancellationWindowPassed');
    }
  });
});
