import { E2eApp } from '../support/e2e-harness';
import type request from 'supertest';
import { addMs, addYears } from './support/calendar';
import {
  buy,
  catalogue,
  eventCount,
  expectProblem,
  get,
  getSubscription,
  logPosition,
  placeOrder,
  postOrder,
  registerCustomer,
  SKU,
} from './support/e2e-support';

/**
 * Error codes that no other e2e suite reaches, each checked for status, stable `code`
 * (problem+json) and for leaving the log untouched; plus paging with `size=1`.
 *
 * One app for the whole file. The expiry test moves the clock years ahead, so it stays last.
 */
describe('error codes without another e2e test', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  /** Sends the request and expects the refusal, with no event appended by it. */
  async function expectRefused(send: () => PromiseLike<request.Response>, status: number, code: string): Promise<request.Response> {
    const before = await eventCount(app);
    const response = await send();
    expectProblem(response, status, code);
    expect(await eventCount(app)).toBe(before);
    return response;
  }

  /** PATCH a subscription; after `position` when given (a friendly name resolves through the read models). */
  const patchSubscription = (customerId: string, ref: string, body: object, position?: string) => {
    const call = app.http().patch(`/v1/customers/${customerId}/subscriptions/${encodeURIComponent(ref)}`).set('Authorization', admin);
    return (position ? call.set('X-Min-Position', position) : call).send(body);
  };

  const patchOrder = (customerId: string, orderId: string, body: object) =>
    app.http().patch(`/v1/customers/${customerId}/orders/${orderId}`).set('Authorization', admin).send(body);

  /** A unique name per call, so names never collide with other tests of this file. */
  const uniqueName = (prefix: string) => `${prefix} ${Math.random().toString(36).slice(2, 10)}`;

  describe('AMBIGUOUS_CUSTOMER (409)', () => {
    it('refuses a company name two customers of the partner share, for reads and for commands', async () => {
      const companyName = uniqueName('Twin Company');
      await registerCustomer(app, { token: admin, companyName });
      const second = await registerCustomer(app, { token: admin, companyName });
      const ref = encodeURIComponent(companyName);

      await expectRefused(() => get(app, `/v1/customers/${ref}`, admin, second.position), 409, 'AMBIGUOUS_CUSTOMER');
      await expectRefused(
        () => postOrder(app, ref, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }], admin, second.position),
        409,
        'AMBIGUOUS_CUSTOMER',
      );
      // Each of them is still found by its tenant GUID.
      expect((await get(app, `/v1/customers/${second.id}`, admin, second.position)).status).toBe(200);
    });
  });

  describe('AMBIGUOUS_SUBSCRIPTION (409)', () => {
    it('refuses a friendly name two subscriptions of the customer share, for GET and PATCH', async () => {
      const customer = await registerCustomer(app, { token: admin });
      const friendlyName = uniqueName('Twin servers');
      const placed = await placeOrder(
        app,
        customer.id,
        [
          { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual', friendlyName },
          { skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual', friendlyName },
        ],
        admin,
      );
      expect(placed.subscriptionIds).toHaveLength(2);
      const ref = encodeURIComponent(friendlyName);

      await expectRefused(
        () => get(app, `/v1/customers/${customer.id}/subscriptions/${ref}`, admin, placed.position),
        409,
        'AMBIGUOUS_SUBSCRIPTION',
      );
      await expectRefused(
        () => patchSubscription(customer.id, friendlyName, { autoRenewEnabled: false }, placed.position),
        409,
        'AMBIGUOUS_SUBSCRIPTION',
      );
      await expectRefused(
        () => patchSubscription(customer.id, friendlyName, { status: 'cancelled' }, placed.position),
        409,
        'AMBIGUOUS_SUBSCRIPTION',
      );
      // Both are untouched.
      for (const id of placed.subscriptionIds) {
        expect(await getSubscription(app, customer.id, id, admin, placed.position)).toMatchObject({ status: 'active', autoRenewEnabled: true });
      }
    });
  });

  describe('INVALID_CONTINUATION_TOKEN (400)', () => {
    it.each(['orders', 'subscriptions'])('refuses a token the service did not issue on the %s list', async (list) => {
      const customer = await registerCustomer(app, { token: admin });
      await expectRefused(
        () => get(app, `/v1/customers/${customer.id}/${list}?continuationToken=not-a-token!`, admin, customer.position),
        400,
        'INVALID_CONTINUATION_TOKEN',
      );
    });
  });

  describe('SKU_NOT_AVAILABLE_IN_MARKET (422)', () => {
    it('refuses any SKU for a customer in a market without prices (JP)', async () => {
      // The oracle: no SKU of the catalogue file has a price in JP.
      expect(catalogue().filter((sku) => 'JP' in sku.prices)).toEqual([]);
      const customer = await registerCustomer(app, { token: admin, country: 'JP' });
      for (const line of [
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.rdsCal, quantity: 2, billingCycle: 'monthly' },
      ]) {
        await expectRefused(() => postOrder(app, customer.id, [line], admin), 422, 'SKU_NOT_AVAILABLE_IN_MARKET');
      }
    });
  });

  describe('cancelling perpetual lines of an order (PATCH)', () => {
    it('answers 422 NO_PERPETUAL_LINES for an order that holds only subscription lines', async () => {
      const customer = await registerCustomer(app, { token: admin });
      const placed = await placeOrder(
        app,
        customer.id,
        [
          { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
          { skuId: SKU.rdsCal, quantity: 3, billingCycle: 'monthly' },
        ],
        admin,
      );
      await expectRefused(() => patchOrder(customer.id, placed.id, { status: 'cancelled' }), 422, 'NO_PERPETUAL_LINES');
    });

    it('answers 422 UNKNOWN_LINE_ITEM for a line number the order does not have', async () => {
      const customer = await registerCustomer(app, { token: admin });
      const placed = await placeOrder(
        app,
        customer.id,
        [
          { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
          { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        ],
        admin,
      );
      await expectRefused(
        () => patchOrder(customer.id, placed.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 9 }] }),
        422,
        'UNKNOWN_LINE_ITEM',
      );
      // Also when it is named beside a line that exists: nothing of the request is applied.
      await expectRefused(
        () => patchOrder(customer.id, placed.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 1 }, { lineItemNumber: 9 }] }),
        422,
        'UNKNOWN_LINE_ITEM',
      );
    });
  });

  describe('paging with size=1', () => {
    it.each(['orders', 'subscriptions'])('walks the %s list one item at a time with the same totalCount on every page', async (list) => {
      const customer = await registerCustomer(app, { token: admin });
      const ids: string[] = [];
      let position = '';
      for (let index = 0; index < 3; index++) {
        const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: index + 1, billingCycle: 'annual' }], admin);
        ids.push(list === 'orders' ? order.body.id : order.body.lineItems[0].subscriptionId);
        position = logPosition(order);
      }
      const path = `/v1/customers/${customer.id}/${list}`;
      const seen: string[] = [];
      let token: string | undefined;
      for (let page = 1; page <= 3; page++) {
        const query = token ? `?size=1&continuationToken=${encodeURIComponent(token)}` : '?size=1';
        const response = await get(app, `${path}${query}`, admin, position);
        expect(response.status).toBe(200);
        expect(response.body.totalCount).toBe(3);
        expect(response.body.items).toHaveLength(1);
        seen.push(response.body.items[0].id);
        if (page < 3) {
          expect(typeof response.body.continuationToken).toBe('string');
          token = response.body.continuationToken;
        } else {
          expect(response.body).not.toHaveProperty('continuationToken');
        }
      }
      // Each page the next item: every one once, none repeated.
      expect([...seen].sort()).toEqual([...ids].sort());
    });
  });

  // Moves the clock past a term end: keep it the last test of the file.
  describe('SUBSCRIPTION_NOT_ACTIVE (422)', () => {
    it('refuses to cancel a subscription that has expired', async () => {
      const customer = await registerCustomer(app, { token: admin });
      const placed = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }], admin);
      const id = placed.subscriptionIds[0]!;
      const purchased = await getSubscription(app, customer.id, id, admin, placed.position);
      expect((await patchSubscription(customer.id, id, { autoRenewEnabled: false })).status).toBe(200);

      const termEnd = addYears(purchased.termStartDate, 1);
      expect(purchased.termEndDate).toBe(termEnd);
      app.clock.set(addMs(termEnd, 1));
      await app.runScheduler();
      expect(await getSubscription(app, customer.id, id, admin)).toMatchObject({ status: 'expired' });

      await expectRefused(() => patchSubscription(customer.id, id, { status: 'cancelled' }), 422, 'SUBSCRIPTION_NOT_ACTIVE');
      expect(await getSubscription(app, customer.id, id, admin)).toMatchObject({ status: 'expired' });
    });
  });
});
