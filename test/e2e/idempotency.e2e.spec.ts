import { E2eApp } from '../support/e2e-harness';
import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import { buy, eventCount, expectProblem, get, logPosition, newTenantId, registerCustomer, SKU } from './support/e2e-support';

/** API.md "Idempotency": the same key and body from the same tenant answers the first answer and appends nothing. */
describe('idempotency: Idempotency-Key and MS-RequestId', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const key = () => `key-${randomUUID()}`;

  /** Sends `body` with an Idempotency-Key, as the Admin Agent unless `token` is given; no expectation on the status. */
  const sendWithKey = (method: 'post' | 'patch', path: string, idempotencyKey: string, body: object, token = admin) =>
    app.http()[method](path).set('Authorization', token).set('Idempotency-Key', idempotencyKey).send(body);

  /** Sends the same request twice and checks the second answer repeats the first and appends nothing. */
  async function expectRepeatable(send: () => Promise<request.Response>, status: number): Promise<request.Response> {
    const first = await send();
    expect(first.status).toBe(status);
    const before = await eventCount(app);
    const second = await send();
    expect(second.status).toBe(status);
    expect(second.body).toEqual(first.body);
    expect(second.headers['x-log-position']).toBe(first.headers['x-log-position']);
    expect(await eventCount(app)).toBe(before);
    return first;
  }

  it('repeats a purchase: same 201, same order, nothing appended, and one order in the list', async () => {
    const customer = await registerCustomer(app);
    const idempotencyKey = key();
    const body = {
      lineItems: [
        { skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      ],
    };
    const send = () => sendWithKey('post', `/v1/customers/${customer.id}/orders`, idempotencyKey, body);
    const first = await expectRepeatable(send, 201);
    const orders = await get(app, `/v1/customers/${customer.id}/orders`, admin, logPosition(first));
    expect(orders.body.totalCount).toBe(1);
    const subscriptions = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, logPosition(first));
    expect(subscriptions.body.totalCount).toBe(1);
  });

  it('treats a body with its members in another order as the same body', async () => {
    const customer = await registerCustomer(app);
    const idempotencyKey = key();
    const send = (line: object) => sendWithKey('post', `/v1/customers/${customer.id}/orders`, idempotencyKey, { lineItems: [line] });
    const first = await send({ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' });
    const second = await send({ billingCycle: 'oneTime', quantity: 1, skuId: SKU.office });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).toBe(first.body.id);
  });

  it('repeats a customer registration: same 201 and body, not 409', async () => {
    const idempotencyKey = key();
    const id = newTenantId();
    const body = { id, companyName: 'Retry GmbH', domain: `r${id.slice(0, 8)}.example`, country: 'AT' };
    await expectRepeatable(() => sendWithKey('post', '/v1/customers', idempotencyKey, body), 201);
  });

  it('repeats a perpetual cancellation with the same credit instead of 409 ALREADY_CANCELLED', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' }]);
    const idempotencyKey = key();
    const orderPath = `/v1/customers/${customer.id}/orders/${order.body.id}`;
    const first = await expectRepeatable(() => sendWithKey('patch', orderPath, idempotencyKey, { status: 'cancelled' }), 200);
    expect(first.body.credit.amount).toBeGreaterThan(0);
    // Without the key, the same request is a second cancellation.
    const again = await app.http().patch(orderPath).set('Authorization', admin).send({ status: 'cancelled' });
    expectProblem(again, 409, 'ALREADY_CANCELLED');
  });

  it('repeats a subscription cancellation with the same refund', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const path = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`;
    const idempotencyKey = key();
    const first = await expectRepeatable(() => sendWithKey('patch', path, idempotencyKey, { status: 'cancelled' }), 200);
    expect(first.body.refund.amount).toBeGreaterThan(0);
    expect(first.body.status).toBe('cancelled');
  });

  it('repeats an autorenew change', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const path = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`;
    const idempotencyKey = key();
    const first = await expectRepeatable(() => sendWithKey('patch', path, idempotencyKey, { autoRenewEnabled: false }), 200);
    expect(first.body.autoRenewEnabled).toBe(false);
  });

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED, nothing appended, the first result unchanged', async () => {
    const customer = await registerCustomer(app);
    const idempotencyKey = key();
    const send = (quantity: number) =>
      sendWithKey('post', `/v1/customers/${customer.id}/orders`, idempotencyKey, {
        lineItems: [{ skuId: SKU.office, quantity, billingCycle: 'oneTime' }],
      });
    const first = await send(1);
    expect(first.status).toBe(201);
    const before = await eventCount(app);
    expectProblem(await send(2), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await eventCount(app)).toBe(before);
    const view = await get(app, `/v1/customers/${customer.id}/orders/${first.body.id}`, admin, logPosition(first));
    expect(view.body.lineItems[0].quantity).toBe(1);
    // The original body still replays.
    expect((await send(1)).body).toEqual(first.body);
  });

  it('refuses the same key on the same subscription with another change', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const path = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`;
    const idempotencyKey = key();
    expect((await sendWithKey('patch', path, idempotencyKey, { autoRenewEnabled: false })).status).toBe(200);
    const before = await eventCount(app);
    const reused = await sendWithKey('patch', path, idempotencyKey, { status: 'cancelled' });
    expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await eventCount(app)).toBe(before);
  });

  describe('one key, different requests at the same time', () => {
    it('lets one purchase through and refuses the other: one order, no subscription nobody bought', async () => {
      const customer = await registerCustomer(app);
      const idempotencyKey = key();
      const path = `/v1/customers/${customer.id}/orders`;
      const [a, b] = await Promise.all([
        sendWithKey('post', path, idempotencyKey, { lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] }),
        sendWithKey('post', path, idempotencyKey, {
          lineItems: [
            { skuId: SKU.standard1y, quantity: 7, billingCycle: 'monthly' },
            { skuId: SKU.sqlStandard3y, quantity: 3, billingCycle: 'annual' },
          ],
        }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([201, 422]);
      const refused = a.status === 422 ? a : b;
      const accepted = a.status === 201 ? a : b;
      expectProblem(refused, 422, 'IDEMPOTENCY_KEY_REUSED');
      const events = (await app.events()).filter((event) => event.metadata['idempotencyKey'] === idempotencyKey);
      expect(events.filter((event) => event.type === 'OrderPlaced')).toHaveLength(1);
      const started = events.filter((event) => event.type === 'SubscriptionStarted');
      expect(started.map((event) => event.data['subscriptionId']).sort()).toEqual(
        accepted.body.lineItems.map((line: { subscriptionId: string }) => line.subscriptionId).sort(),
      );
    });

    it('cancels one of two orders and refuses the other: one credit', async () => {
      const customer = await registerCustomer(app);
      const first = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const second = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' }]);
      const idempotencyKey = key();
      const cancel = (orderId: string) =>
        sendWithKey('patch', `/v1/customers/${customer.id}/orders/${orderId}`, idempotencyKey, { status: 'cancelled' });
      const answers = await Promise.all([cancel(first.body.id), cancel(second.body.id)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 422]);
      const credits = (await app.events()).filter(
        (event) => event.type === 'PerpetualLineCancelled' && [first.body.id, second.body.id].includes(event.data['orderId']),
      );
      expect(credits).toHaveLength(1);
      // The accepted request's retry still gets its answer back.
      const accepted = answers.find((answer) => answer.status === 200)!;
      const retry = await cancel(accepted.body.id);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(accepted.body);
    });
  });

  describe('a key reused on another resource', () => {
    it('refuses a second registration of another customer: 422, nothing appended, that customer not registered', async () => {
      const idempotencyKey = key();
      const register = (id: string) =>
        sendWithKey('post', '/v1/customers', idempotencyKey, {
          id,
          companyName: `Tenant ${id.slice(0, 8)}`,
          domain: `t${id.slice(0, 8)}.example`,
          country: 'DE',
        });
      const first = await register(newTenantId());
      expect(first.status).toBe(201);
      const before = await eventCount(app);
      const otherId = newTenantId();
      expectProblem(await register(otherId), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount(app)).toBe(before);
      expectProblem(await get(app, `/v1/customers/${otherId}`, admin, logPosition(first)), 404, 'UNKNOWN_CUSTOMER');
    });

    it('refuses a purchase under the key of a registration', async () => {
      const idempotencyKey = key();
      const id = newTenantId();
      const registered = await sendWithKey('post', '/v1/customers', idempotencyKey, {
        id,
        companyName: 'Reuse Ltd',
        domain: `r${id.slice(0, 8)}.example`,
        country: 'GB',
      });
      expect(registered.status).toBe(201);
      const before = await eventCount(app);
      const purchase = await sendWithKey('post', `/v1/customers/${id}/orders`, idempotencyKey, {
        lineItems: [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }],
      });
      expectProblem(purchase, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount(app)).toBe(before);
    });

    it('refuses a subscription cancellation under the key of a perpetual cancellation', async () => {
      const customer = await registerCustomer(app);
      const order = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      ]);
      const idempotencyKey = key();
      const cancelOrder = await sendWithKey('patch', `/v1/customers/${customer.id}/orders/${order.body.id}`, idempotencyKey, { status: 'cancelled' });
      expect(cancelOrder.status).toBe(200);
      const before = await eventCount(app);
      const subscriptionPath = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[1].subscriptionId}`;
      const cancelSubscription = await sendWithKey('patch', subscriptionPath, idempotencyKey, { status: 'cancelled' });
      expectProblem(cancelSubscription, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount(app)).toBe(before);
    });

    it('a no-op under a key leaves the subscription untouched, and the key then answers only that request', async () => {
      const customer = await registerCustomer(app);
      const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
      const subscriptionId = order.body.lineItems[0].subscriptionId as string;
      const onSubscription = async () => (await app.events()).filter((event) => event.streamName === `subscription-${subscriptionId}`).length;
      const subscriptionPath = `/v1/customers/${customer.id}/subscriptions/${subscriptionId}`;
      const idempotencyKey = key();
      const before = await onSubscription();

      const unchanged = await sendWithKey('patch', subscriptionPath, idempotencyKey, { autoRenewEnabled: true });
      expect(unchanged.status).toBe(200);
      expect(await onSubscription()).toBe(before);

      const allBefore = await eventCount(app);
      expectProblem(await sendWithKey('patch', subscriptionPath, idempotencyKey, { autoRenewEnabled: false }), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount(app)).toBe(allBefore);

      const repeated = await sendWithKey('patch', subscriptionPath, idempotencyKey, { autoRenewEnabled: true });
      expect(repeated.status).toBe(200);
      expect(repeated.body).toEqual(unchanged.body);
    });
  });

  it("accepts Partner Center's MS-RequestId as the key", async () => {
    const customer = await registerCustomer(app);
    const requestId = randomUUID();
    const send = (quantity: number) =>
      app
        .http()
        .post(`/v1/customers/${customer.id}/orders`)
        .set('Authorization', admin)
        .set('MS-RequestId', requestId)
        .send({ lineItems: [{ skuId: SKU.office, quantity, billingCycle: 'oneTime' }] });
    await expectRepeatable(() => send(3), 201);
    expectProblem(await send(4), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('scopes keys to the tenant: another partner with the same key gets its own order', async () => {
    const partner2 = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
    const mine = await registerCustomer(app);
    const theirs = await registerCustomer(app, { token: partner2 });
    const idempotencyKey = key();
    const body = { lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] };
    const first = await sendWithKey('post', `/v1/customers/${mine.id}/orders`, idempotencyKey, body);
    const before = await eventCount(app);
    const other = await sendWithKey('post', `/v1/customers/${theirs.id}/orders`, idempotencyKey, body, partner2);
    expect([first.status, other.status]).toEqual([201, 201]);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.body.customerId).toBe(theirs.id);
    expect(other.body.lineItems[0].subscriptionId).not.toBe(first.body.lineItems[0].subscriptionId);
    expect(await eventCount(app)).toBeGreaterThan(before);
    const theirOrders = await get(app, `/v1/customers/${theirs.id}/orders`, partner2, logPosition(other));
    expect(theirOrders.body.items.map((order: { id: string }) => order.id)).toEqual([other.body.id]);
  });

  it('scopes keys to the tenant, not the user: another user of the same partner gets the first answer', async () => {
    const customer = await registerCustomer(app);
    const idempotencyKey = key();
    const body = { lineItems: [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }] };
    const alice = await app.token({ roles: ['AdminAgent'], sub: 'alice' });
    const bob = await app.token({ roles: ['GlobalAdmin'], sub: 'bob' });
    const first = await sendWithKey('post', `/v1/customers/${customer.id}/orders`, idempotencyKey, body, alice);
    const before = await eventCount(app);
    const second = await sendWithKey('post', `/v1/customers/${customer.id}/orders`, idempotencyKey, body, bob);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body).toEqual(first.body);
    expect(await eventCount(app)).toBe(before);
  });

  it('buys twice without a key', async () => {
    const customer = await registerCustomer(app);
    const body = [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }];
    const first = await buy(app, customer.id, body);
    const second = await buy(app, customer.id, body);
    expect(second.body.id).not.toBe(first.body.id);
  });

  // Moves the clock, so it comes last.
  it('repeats the first answer unchanged even after time has passed (window fields are not recomputed)', async () => {
    const customer = await registerCustomer(app);
    const purchaseKey = key();
    const purchase = () =>
      sendWithKey('post', `/v1/customers/${customer.id}/orders`, purchaseKey, {
        lineItems: [
          { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
          { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        ],
      });
    const bought = await purchase();
    expect(bought.status).toBe(201);
    const subscriptionPath = `/v1/customers/${customer.id}/subscriptions/${bought.body.lineItems[1].subscriptionId}`;
    const cancelKey = key();
    const cancel = () => sendWithKey('patch', subscriptionPath, cancelKey, { status: 'cancelled' });
    const cancelled = await cancel();
    expect(cancelled.status).toBe(200);
    const creditKey = key();
    const credit = () => sendWithKey('patch', `/v1/customers/${customer.id}/orders/${bought.body.id}`, creditKey, { status: 'cancelled' });
    const credited = await credit();
    expect(credited.status).toBe(200);

    // Past the 7-day subscription window; the perpetual window has fewer days left.
    app.clock.advanceDays(8);
    await app.runScheduler();
    const before = await eventCount(app);
    for (const [send, first] of [
      [purchase, bought],
      [cancel, cancelled],
      [credit, credited],
    ] as const) {
      const repeat = await send();
      expect(repeat.status).toBe(first.status);
      expect(repeat.body).toEqual(first.body);
    }
    expect(await eventCount(app)).toBe(before);
  });

  it.each([['a'.repeat(256)], ['has space'], ['tab\tkey']])('refuses a malformed key %j with 400', async (badKey) => {
    const customer = await registerCustomer(app);
    const response = await sendWithKey('post', `/v1/customers/${customer.id}/orders`, badKey, {
      lineItems: [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }],
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
  });
});
