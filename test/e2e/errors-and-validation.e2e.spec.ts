import { E2eApp } from '../support/e2e-harness';
import type request from 'supertest';
import {
  buy,
  eventCount,
  expectProblem,
  get,
  logPosition,
  newTenantId,
  postOrder,
  postRaw,
  registerCustomer,
  SKU,
} from './support/e2e-support';

/**
 * The error and consistency conventions of API.md: problem+json for every refusal, nothing appended
 * by an error, X-Log-Position on every successful command (never on errors), X-Min-Position on queries.
 */
describe('errors, validation and read-your-writes', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const patch = (path: string, body: object, token = admin) => app.http().patch(path).set('Authorization', token).send(body);

  describe('every error code of the foundation is a problem document, and appends nothing', () => {
    /** Each case prepares what it needs and hands back the refused request, so the count brackets that request alone. */
    type Case = [status: number, code: string, arrange: () => Promise<() => Promise<request.Response>>];
    const cases: Case[] = [
      [401, 'UNAUTHENTICATED', async () => () => app.http().post('/v1/customers').send({ id: newTenantId() })],
      [
        403,
        'FORBIDDEN',
        async () => {
          const customer = await registerCustomer(app);
          const billing = await app.token({ roles: ['BillingAdmin'] });
          return () => postOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], billing);
        },
      ],
      [
        400,
        'VALIDATION_FAILED',
        async () => () =>
          app.http().post('/v1/customers').set('Authorization', admin).send({ id: newTenantId(), companyName: 'A', domain: 'a.example', country: 'UK' }),
      ],
      [
        409,
        'CUSTOMER_ALREADY_EXISTS',
        async () => {
          const customer = await registerCustomer(app);
          return () =>
            app
              .http()
              .post('/v1/customers')
              .set('Authorization', admin)
              .send({ id: customer.id, companyName: customer.companyName, domain: customer.domain, country: 'DE' });
        },
      ],
      [404, 'UNKNOWN_CUSTOMER', async () => () => postOrder(app, newTenantId(), [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }])],
      [
        422,
        'UNKNOWN_SKU',
        async () => {
          const customer = await registerCustomer(app);
          return () => postOrder(app, customer.id, [{ skuId: 'nope:P1Y', quantity: 1, billingCycle: 'annual' }]);
        },
      ],
      [
        422,
        'BILLING_PLAN_NOT_OFFERED',
        async () => {
          const customer = await registerCustomer(app);
          return () => postOrder(app, customer.id, [{ skuId: SKU.datacenter3y, quantity: 1, billingCycle: 'monthly' }]);
        },
      ],
      [
        422,
        'AZURE_RESERVATIONS_UNAVAILABLE',
        async () => {
          const customer = await registerCustomer(app, { country: 'CN' });
          return () => postOrder(app, customer.id, [{ skuId: SKU.azure1y, quantity: 1, billingCycle: 'annual' }]);
        },
      ],
      [
        422,
        'NOT_CANCELLABLE',
        async () => {
          const customer = await registerCustomer(app);
          const order = await buy(app, customer.id, [{ skuId: SKU.sles1y, quantity: 1, billingCycle: 'annual' }]);
          return () => patch(`/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`, { status: 'cancelled' });
        },
      ],
      [
        409,
        'ALREADY_CANCELLED',
        async () => {
          const customer = await registerCustomer(app);
          const order = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
          expect((await patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled' })).status).toBe(200);
          return () => patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled' });
        },
      ],
      [
        422,
        'AUTORENEW_NOT_AVAILABLE',
        async () => {
          const customer = await registerCustomer(app);
          const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
          const path = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`;
          expect((await patch(path, { status: 'cancelled' })).status).toBe(200);
          return () => patch(path, { autoRenewEnabled: true });
        },
      ],
      [
        422,
        'NOT_A_PERPETUAL_LINE',
        async () => {
          const customer = await registerCustomer(app);
          const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
          return () => patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled', lineItems: [{ lineItemNumber: 1 }] });
        },
      ],
      [
        404,
        'ORDER_NOT_FOUND',
        async () => {
          const customer = await registerCustomer(app);
          return () => patch(`/v1/customers/${customer.id}/orders/${newTenantId()}`, { status: 'cancelled' });
        },
      ],
      [
        404,
        'SUBSCRIPTION_NOT_FOUND',
        async () => {
          const customer = await registerCustomer(app);
          return () => patch(`/v1/customers/${customer.id}/subscriptions/${newTenantId()}`, { status: 'cancelled' });
        },
      ],
      [
        422,
        'IDEMPOTENCY_KEY_REUSED',
        async () => {
          const customer = await registerCustomer(app);
          const send = (quantity: number) =>
            app
              .http()
              .post(`/v1/customers/${customer.id}/orders`)
              .set('Authorization', admin)
              .set('Idempotency-Key', `reuse-${customer.id}`)
              .send({ lineItems: [{ skuId: SKU.office, quantity, billingCycle: 'oneTime' }] });
          expect((await send(1)).status).toBe(201);
          return () => send(2);
        },
      ],
    ];

    it.each(cases)('%i %s', async (status, code, arrange) => {
      const refusedRequest = await arrange();
      const before = await eventCount(app);
      const response = await refusedRequest();
      expectProblem(response, status, code);
      expect(response.body.title).toMatch(/\S/);
      expect(response.body.type).toMatch(new RegExp(`${code}$`));
      expect(await eventCount(app)).toBe(before);
    });

    it('gives one code one type and one title, whatever the occurrence', async () => {
      const first = await postOrder(app, newTenantId(), [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const second = await get(app, `/v1/customers/${newTenantId()}`, admin);
      expect(second.body.code).toBe('UNKNOWN_CUSTOMER');
      expect([second.body.type, second.body.title]).toEqual([first.body.type, first.body.title]);
    });

    it('lists every offending field of a validation error with where it was', async () => {
      const customer = await registerCustomer(app);
      const response = await app
        .http()
        .post(`/v1/customers/${customer.id}/orders`)
        .set('Authorization', admin)
        .send({
          lineItems: [
            { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
            { skuId: SKU.office, quantity: 0, billingCycle: 'fortnightly' },
          ],
          discount: 10,
        });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      const fields = (response.body.errors as { in: string; field: string; messages: string[] }[]).map((error) => {
        expect(error.messages.length).toBeGreaterThan(0);
        return `${error.in}:${error.field}`;
      });
      expect(fields.sort()).toEqual(['body:discount', 'body:lineItems[1].billingCycle', 'body:lineItems[1].quantity']);
    });

    it('answers an unknown route with a 404 problem document', async () => {
      const response = await get(app, '/v1/nothing-here', admin);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 404, code: expect.stringMatching(/^[A-Z_]+$/) });
    });

    it('refuses a non-JSON body with a 415 problem document', async () => {
      const response = await postRaw(app, '/v1/customers', admin, 'application/x-www-form-urlencoded', 'id=1&country=DE');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('X-Log-Position on every successful command', () => {
    it('is on customer registration, purchase, perpetual cancellation, autorenew and subscription cancellation, and each position covers its write', async () => {
      const customer = await registerCustomer(app);
      expect(customer.position).toMatch(/^\d+\.\d+$/);

      const order = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      ]);
      const orderPosition = logPosition(order);
      const subscriptionId = order.body.lineItems[1].subscriptionId as string;
      const subscriptionPath = `/v1/customers/${customer.id}/subscriptions/${subscriptionId}`;
      // The purchase position covers the subscription it created, not only the order.
      expect((await get(app, subscriptionPath, admin, orderPosition)).status).toBe(200);

      const cancelOrder = await patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled' });
      expect(cancelOrder.status).toBe(200);
      const orderView = await get(app, `/v1/customers/${customer.id}/orders/${order.body.id}`, admin, logPosition(cancelOrder));
      expect(orderView.body.lineItems[0].status).toBe('cancelled');

      const autorenew = await patch(subscriptionPath, { autoRenewEnabled: false });
      expect(autorenew.status).toBe(200);
      expect((await get(app, subscriptionPath, admin, logPosition(autorenew))).body.autoRenewEnabled).toBe(false);

      const cancel = await patch(subscriptionPath, { status: 'cancelled' });
      expect(cancel.status).toBe(200);
      expect((await get(app, subscriptionPath, admin, logPosition(cancel))).body.status).toBe('cancelled');

      const list = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, logPosition(cancel));
      expect(list.body.items[0]).toMatchObject({ id: subscriptionId, status: 'cancelled', autoRenewEnabled: false });
    });

    it('is never on an error answer, not even on a refused command after earlier successes', async () => {
      const customer = await registerCustomer(app);
      const order = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      expect((await patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled' })).status).toBe(200);
      const refused = await patch(`/v1/customers/${customer.id}/orders/${order.body.id}`, { status: 'cancelled' });
      expect(refused.status).toBe(409);
      expect(refused.headers['x-log-position']).toBeUndefined();
    });
  });

  describe('X-Min-Position on queries', () => {
    it.each(['abc', '12', '1.2.3', '-1.0', '1.x'])('answers 400 VALIDATION_FAILED for the malformed value %j on every read-model query', async (value) => {
      const customer = await registerCustomer(app);
      const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
      const base = `/v1/customers/${customer.id}`;
      for (const path of [
        base,
        `${base}/orders`,
        `${base}/orders/${order.body.id}`,
        `${base}/subscriptions`,
        `${base}/subscriptions/${order.body.lineItems[0].subscriptionId}`,
      ]) {
        const response = await app.http().get(path).set('Authorization', admin).set('X-Min-Position', value);
        expectProblem(response, 400, 'VALIDATION_FAILED');
        expect(response.body.errors).toEqual([expect.objectContaining({ in: 'header', field: 'X-Min-Position' })]);
      }
    });

    it('answers at once for a position already reached', async () => {
      const customer = await registerCustomer(app);
      const response = await get(app, `/v1/customers/${customer.id}`, admin, customer.position);
      expect(response.status).toBe(200);
      // An older position is reached too.
      expect((await get(app, `/v1/customers/${customer.id}`, admin, '0.0')).status).toBe(200);
    });

    it('reflects a write made just before, for every new purchase in a burst', async () => {
      const customer = await registerCustomer(app);
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) {
        const order = await buy(app, customer.id, [{ skuId: SKU.standard1y, quantity: index + 1, billingCycle: 'annual' }]);
        ids.push(order.body.id);
        const list = await get(app, `/v1/customers/${customer.id}/orders`, admin, logPosition(order));
        expect(list.body.totalCount).toBe(index + 1);
        expect(list.body.items.map((item: { id: string }) => item.id).sort()).toEqual([...ids].sort());
      }
    });
  });
});
