import { signToken } from '@csp/application/auth/jwt';
import { E2eApp } from '@csp/testing/e2e-harness';
import type { Response } from 'supertest';
import { expectProblem, placeOrder, registerCustomer, SKU, type LineRequest } from './support/lifecycle-fixtures';

/**
 * Every refused request appends nothing: the length of the real log is compared before and after
 * each one. The answers are problem documents with a stable `code`.
 */
describe('bad input appends nothing', () => {
  let app: E2eApp;
  let admin: string;
  let customerId: string;
  let subscriptionId: string;
  let foreignCustomerId: string;
  let foreignSubscriptionId: string;

  const validLine: LineRequest = { skuId: SKU.datacenterP1Y, quantity: 1, billingCycle: 'annual' };

  beforeAll(async () => {
    app = await E2eApp.start({ now: '2026-06-01T09:00:00.000Z' });
    admin = await app.token({ roles: ['AdminAgent'] });
    customerId = await registerCustomer(app, admin);
    subscriptionId = (await placeOrder(app, admin, customerId, [validLine])).subscriptionIds[0]!;
    const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
    foreignCustomerId = await registerCustomer(app, otherPartner);
    foreignSubscriptionId = (await placeOrder(app, otherPartner, foreignCustomerId, [validLine])).subscriptionIds[0]!;
  });
  afterAll(() => app.stop());

  /** Sends the request, checks the problem document, and that the log did not grow. */
  async function refused(send: () => Promise<Response>, status: number, code?: string): Promise<Response> {
    const before = (await app.events()).length;
    const response = await send();
    expectProblem(response as never, status, code);
    expect((await app.events()).length).toBe(before);
    return response;
  }

  const order = (body: unknown, authorization?: string) => () => {
    const request = app.http().post(`/v1/customers/${customerId}/orders`);
    if (authorization !== undefined) request.set('Authorization', authorization);
    else request.set('Authorization', admin);
    return request.send(body as object);
  };

  const fieldsOf = (response: Response): string[] => (response.body.errors as Array<{ field: string }>).map((error) => error.field);

  describe('wrong types and out-of-range values: 400 VALIDATION_FAILED naming the field', () => {
    it.each([
      ['a string "2"', '2'],
      ['0', 0],
      ['10001', 10_001],
      ['1.5', 1.5],
      ['null', null],
      ['negative', -1],
    ])('quantity %s', async (_label, quantity) => {
      const response = await refused(order({ lineItems: [{ ...validLine, quantity }] }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(response)).toContain('lineItems[0].quantity');
    });

    it('accepts the bounds 1 and 10000 (so the refusals above are about the range)', async () => {
      const before = (await app.events()).length;
      await placeOrder(app, admin, customerId, [
        { ...validLine, quantity: 1 },
        { ...validLine, quantity: 10_000 },
      ]);
      expect((await app.events()).length).toBeGreaterThan(before);
    });

    it('billingCycle outside the enum', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, billingCycle: 'weekly' }] }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(response)).toContain('lineItems[0].billingCycle');
    });

    it('lineItems not an array, and an empty one', async () => {
      expect(fieldsOf(await refused(order({ lineItems: validLine }), 400, 'VALIDATION_FAILED'))).toContain('lineItems');
      expect(fieldsOf(await refused(order({ lineItems: [] }), 400, 'VALIDATION_FAILED'))).toContain('lineItems');
    });

    it('autoRenewEnabled as a string, an unknown status, and both at once on a subscription', async () => {
      const patch = (body: object) => () =>
        app.http().patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', admin).send(body);
      expect(fieldsOf(await refused(patch({ autoRenewEnabled: 'false' }), 400, 'VALIDATION_FAILED'))).toContain('autoRenewEnabled');
      expect(fieldsOf(await refused(patch({ status: 'active' }), 400, 'VALIDATION_FAILED'))).toContain('status');
      await refused(patch({ status: 'cancelled', autoRenewEnabled: false }), 400, 'VALIDATION_FAILED');
      await refused(patch({}), 400, 'VALIDATION_FAILED');
    });
  });

  describe('catalogue refusals: 422', () => {
    it('an unknown SKU is UNKNOWN_SKU, also when it is the second line of an otherwise valid order', async () => {
      await refused(order({ lineItems: [{ ...validLine, skuId: 'windows-server-1999:P1Y' }] }), 422, 'UNKNOWN_SKU');
      await refused(order({ lineItems: [validLine, { ...validLine, skuId: 'no-such-sku' }] }), 422, 'UNKNOWN_SKU');
    });

    it('a billing cycle the SKU does not offer is BILLING_PLAN_NOT_OFFERED', async () => {
      await refused(order({ lineItems: [{ skuId: SKU.rdsCal, quantity: 1, billingCycle: 'annual' }] }), 422, 'BILLING_PLAN_NOT_OFFERED');
    });
  });

  describe('malformed and oversized bodies', () => {
    it('malformed JSON is 400 VALIDATION_FAILED', async () => {
      await refused(
        () =>
          app
            .http()
            .post(`/v1/customers/${customerId}/orders`)
            .set('Authorization', admin)
            .set('Content-Type', 'application/json')
            .send('{"lineItems": [{"skuId": "x", "quantity": 1,'),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('a form-encoded body is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      await refused(
        () =>
          app
            .http()
            .post(`/v1/customers/${customerId}/orders`)
            .set('Authorization', admin)
            .set('Content-Type', 'application/x-www-form-urlencoded')
            .send('lineItems=1'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('a 1 MB companyName is 413 PAYLOAD_TOO_LARGE', async () => {
      await refused(
        () =>
          app
            .http()
            .post('/v1/customers')
            .set('Authorization', admin)
            .send({ id: '11111111-2222-4333-8444-555555555555', companyName: 'x'.repeat(1024 * 1024), domain: 'big.example.com', country: 'DE' }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it('a companyName just over the field limit (but under the body limit) is 400 naming companyName', async () => {
      const response = await refused(
        () =>
          app
            .http()
            .post('/v1/customers')
            .set('Authorization', admin)
            .send({ id: '11111111-2222-4333-8444-555555555556', companyName: 'x'.repeat(201), domain: 'big.example.com', country: 'DE' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(fieldsOf(response)).toEqual(['companyName']);
    });

    it('a 10,000-character skuId is 400 naming the field', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, skuId: 's'.repeat(10_000) }] }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(response)).toContain('lineItems[0].skuId');
      // The answer does not echo the huge value back.
      expect(JSON.stringify(response.body).length).toBeLessThan(5_000);
    });

    it('a 10,000-character path reference is 400', async () => {
      await refused(
        () => app.http().post(`/v1/customers/${'c'.repeat(10_000)}/orders`).set('Authorization', admin).send({ lineItems: [validLine] }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('unknown fields: 400 listing them', () => {
    it('at the top level', async () => {
      const response = await refused(order({ lineItems: [validLine], coupon: 'FREE' }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(response)).toContain('coupon');
    });

    it('inside a line item', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, discountPercent: 50 }] }), 400, 'VALIDATION_FAILED');
      expect(fieldsOf(response)).toContain('lineItems[0].discountPercent');
    });

    it('a misspelt autoRenewEnabled', async () => {
      const response = await refused(
        () =>
          app
            .http()
            .patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`)
            .set('Authorization', admin)
            .send({ autoRenewEnable: false }),
        400,
        'VALIDATION_FAILED',
      );
      expect(fieldsOf(response)).toContain('autoRenewEnable');
    });

    it('in a customer registration', async () => {
      const response = await refused(
        () =>
          app
            .http()
            .post('/v1/customers')
            .set('Authorization', admin)
            .send({ id: '11111111-2222-4333-8444-555555555557', companyName: 'A', domain: 'a.example.com', country: 'DE', partnerId: 'partner-9' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(fieldsOf(response)).toContain('partnerId');
    });
  });

  describe('who may act', () => {
    it('another partner’s customer is 404 for orders, subscriptions and cancellations', async () => {
      await refused(
        () => app.http().post(`/v1/customers/${foreignCustomerId}/orders`).set('Authorization', admin).send({ lineItems: [validLine] }),
        404,
      );
      await refused(
        () =>
          app
            .http()
            .patch(`/v1/customers/${foreignCustomerId}/subscriptions/${foreignSubscriptionId}`)
            .set('Authorization', admin)
            .send({ status: 'cancelled' }),
        404,
      );
      // Own customer, someone else's subscription id: not found either.
      await refused(
        () =>
          app
            .http()
            .patch(`/v1/customers/${customerId}/subscriptions/${foreignSubscriptionId}`)
            .set('Authorization', admin)
            .send({ status: 'cancelled' }),
        404,
      );
      await refused(() => app.http().get(`/v1/customers/${foreignCustomerId}/subscriptions`).set('Authorization', admin), 404);
    });

    it('a wrong role is 403', async () => {
      const accountAdmin = await app.token({ roles: ['AccountAdmin'] });
      const globalAdmin = await app.token({ roles: ['GlobalAdmin'] });
      await refused(order({ lineItems: [validLine] }, accountAdmin), 403, 'FORBIDDEN');
      // Only an Admin Agent may cancel.
      await refused(
        () =>
          app
            .http()
            .patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`)
            .set('Authorization', globalAdmin)
            .send({ status: 'cancelled' }),
        403,
        'FORBIDDEN',
      );
      // A customer's own Global Admin is not the partner's.
      const customerUser = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customerId });
      await refused(order({ lineItems: [validLine] }, customerUser), 403, 'FORBIDDEN');
    });

    it('a missing or bad token is 401', async () => {
      await refused(() => app.http().post(`/v1/customers/${customerId}/orders`).send({ lineItems: [validLine] }), 401, 'UNAUTHENTICATED');
      await refused(order({ lineItems: [validLine] }, 'Bearer not.a.jwt'), 401, 'UNAUTHENTICATED');
      // Right claims, wrong secret.
      const forged = await signToken(
        { sub: 'user-AdminAgent', tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'] },
        'another-secret-that-is-long-enough-for-hs256-9876543210',
        { expiresIn: '1h' },
      );
      await refused(order({ lineItems: [validLine] }, `Bearer ${forged}`), 401, 'UNAUTHENTICATED');
    });
  });

  describe('idempotency misuse', () => {
    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and appends nothing', async () => {
      await app
        .http()
        .post(`/v1/customers/${customerId}/orders`)
        .set('Authorization', admin)
        .set('Idempotency-Key', 'bad-input-key-1')
        .send({ lineItems: [validLine] })
        .expect(201);
      await refused(
        () =>
          app
            .http()
            .post(`/v1/customers/${customerId}/orders`)
            .set('Authorization', admin)
            .set('Idempotency-Key', 'bad-input-key-1')
            .send({ lineItems: [{ ...validLine, quantity: 2 }] }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('an Idempotency-Key over 255 characters is 400', async () => {
      await refused(
        () =>
          app
            .http()
            .post(`/v1/customers/${customerId}/orders`)
            .set('Authorization', admin)
            .set('Idempotency-Key', 'k'.repeat(256))
            .send({ lineItems: [validLine] }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });
});
