import { signToken } from '@csp/application/auth/jwt';
import { E2eApp } from '../support/e2e-harness';
import type { Response } from 'supertest';
import { expectProblem, invalidFields, placeOrder, postRaw, registerCustomer, SKU, type LineItemRequest } from './support/e2e-support';

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
  /** Position of the last write of the setup (the foreign purchase). */
  let setupPosition: string;

  const validLine: LineItemRequest = { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' };

  beforeAll(async () => {
    app = await E2eApp.start({ now: '2026-06-01T09:00:00.000Z' });
    admin = await app.token({ roles: ['AdminAgent'] });
    customerId = (await registerCustomer(app, { token: admin })).id;
    subscriptionId = (await placeOrder(app, customerId, [validLine])).subscriptionIds[0]!;
    const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
    foreignCustomerId = (await registerCustomer(app, { token: otherPartner })).id;
    const foreignOrder = await placeOrder(app, foreignCustomerId, [validLine], otherPartner);
    foreignSubscriptionId = foreignOrder.subscriptionIds[0]!;
    setupPosition = foreignOrder.position;
  });
  afterAll(() => app.stop());

  /** Sends the request, checks the problem document, and that the log did not grow. */
  async function refused(send: () => Promise<Response>, status: number, code?: string): Promise<Response> {
    const before = (await app.events()).length;
    const response = await send();
    expectProblem(response, status, code);
    expect((await app.events()).length).toBe(before);
    return response;
  }

  /** A purchase request (by default: the Admin Agent, on the own customer), sent when called. */
  const order =
    (body: unknown, options: { authorization?: string; customer?: string; idempotencyKey?: string } = {}) =>
    () => {
      const request = app
        .http()
        .post(`/v1/customers/${options.customer ?? customerId}/orders`)
        .set('Authorization', options.authorization ?? admin);
      if (options.idempotencyKey !== undefined) request.set('Idempotency-Key', options.idempotencyKey);
      return request.send(body as object);
    };

  /** A PATCH of a subscription (by default: the Admin Agent, on the own customer's subscription), sent when called. */
  const patchSubscription =
    (body: object, options: { authorization?: string; customer?: string; subscription?: string } = {}) =>
    () =>
      app
        .http()
        .patch(`/v1/customers/${options.customer ?? customerId}/subscriptions/${options.subscription ?? subscriptionId}`)
        .set('Authorization', options.authorization ?? admin)
        .send(body);

  /** A customer registration by the Admin Agent, sent when called. */
  const registration = (body: object) => () => app.http().post('/v1/customers').set('Authorization', admin).send(body);

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
      expect(invalidFields(response)).toContain('lineItems[0].quantity');
    });

    it('accepts the bounds 1 and 10000 (so the refusals above are about the range)', async () => {
      const before = (await app.events()).length;
      await placeOrder(app, customerId, [
        { ...validLine, quantity: 1 },
        { ...validLine, quantity: 10_000 },
      ]);
      expect((await app.events()).length).toBeGreaterThan(before);
    });

    it('billingCycle outside the enum', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, billingCycle: 'weekly' }] }), 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('lineItems[0].billingCycle');
    });

    it('lineItems not an array, and an empty one', async () => {
      expect(invalidFields(await refused(order({ lineItems: validLine }), 400, 'VALIDATION_FAILED'))).toContain('lineItems');
      expect(invalidFields(await refused(order({ lineItems: [] }), 400, 'VALIDATION_FAILED'))).toContain('lineItems');
    });

    it('autoRenewEnabled as a string, an unknown status, and both at once on a subscription', async () => {
      expect(invalidFields(await refused(patchSubscription({ autoRenewEnabled: 'false' }), 400, 'VALIDATION_FAILED'))).toContain('autoRenewEnabled');
      expect(invalidFields(await refused(patchSubscription({ status: 'active' }), 400, 'VALIDATION_FAILED'))).toContain('status');
      await refused(patchSubscription({ status: 'cancelled', autoRenewEnabled: false }), 400, 'VALIDATION_FAILED');
      await refused(patchSubscription({}), 400, 'VALIDATION_FAILED');
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
    it.each<[title: string, contentType: string, body: string, status: number, code: string]>([
      ['malformed JSON is 400 VALIDATION_FAILED', 'application/json', '{"lineItems": [{"skuId": "x", "quantity": 1,', 400, 'VALIDATION_FAILED'],
      ['a form-encoded body is 415 UNSUPPORTED_MEDIA_TYPE', 'application/x-www-form-urlencoded', 'lineItems=1', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ])('%s', async (_title, contentType, body, status, code) => {
      await refused(() => postRaw(app, `/v1/customers/${customerId}/orders`, admin, contentType, body), status, code);
    });

    it('a 1 MB companyName is 413 PAYLOAD_TOO_LARGE', async () => {
      await refused(
        registration({ id: '11111111-2222-4333-8444-555555555555', companyName: 'x'.repeat(1024 * 1024), domain: 'big.example.com', country: 'DE' }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it('a companyName just over the field limit (but under the body limit) is 400 naming companyName', async () => {
      const response = await refused(
        registration({ id: '11111111-2222-4333-8444-555555555556', companyName: 'x'.repeat(201), domain: 'big.example.com', country: 'DE' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toEqual(['companyName']);
    });

    it('a 10,000-character skuId is 400 naming the field', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, skuId: 's'.repeat(10_000) }] }), 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('lineItems[0].skuId');
      // The answer does not echo the huge value back.
      expect(JSON.stringify(response.body).length).toBeLessThan(5_000);
    });

    it('a 10,000-character path reference is 400', async () => {
      await refused(order({ lineItems: [validLine] }, { customer: 'c'.repeat(10_000) }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('unknown fields: 400 listing them', () => {
    it('at the top level', async () => {
      const response = await refused(order({ lineItems: [validLine], coupon: 'FREE' }), 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('coupon');
    });

    it('inside a line item', async () => {
      const response = await refused(order({ lineItems: [{ ...validLine, discountPercent: 50 }] }), 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('lineItems[0].discountPercent');
    });

    it('a misspelt autoRenewEnabled', async () => {
      const response = await refused(patchSubscription({ autoRenewEnable: false }), 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('autoRenewEnable');
    });

    it('in a customer registration', async () => {
      const response = await refused(
        registration({ id: '11111111-2222-4333-8444-555555555557', companyName: 'A', domain: 'a.example.com', country: 'DE', partnerId: 'partner-9' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toContain('partnerId');
    });
  });

  describe('who may act', () => {
    it('another partner’s customer is 404 for orders, subscriptions and cancellations', async () => {
      await refused(order({ lineItems: [validLine] }, { customer: foreignCustomerId }), 404);
      await refused(patchSubscription({ status: 'cancelled' }, { customer: foreignCustomerId, subscription: foreignSubscriptionId }), 404);
      // Own customer, someone else's subscription id: not found either.
      await refused(patchSubscription({ status: 'cancelled' }, { subscription: foreignSubscriptionId }), 404);
      await refused(
        () => app.http().get(`/v1/customers/${foreignCustomerId}/subscriptions`).set('Authorization', admin).set('X-Min-Position', setupPosition),
        404,
      );
    });

    it('a wrong role is 403', async () => {
      const accountAdmin = await app.token({ roles: ['AccountAdmin'] });
      const globalAdmin = await app.token({ roles: ['GlobalAdmin'] });
      await refused(order({ lineItems: [validLine] }, { authorization: accountAdmin }), 403, 'FORBIDDEN');
      // Only an Admin Agent may cancel.
      await refused(patchSubscription({ status: 'cancelled' }, { authorization: globalAdmin }), 403, 'FORBIDDEN');
      // A customer's own Global Admin is not the partner's.
      const customerUser = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customerId });
      await refused(order({ lineItems: [validLine] }, { authorization: customerUser }), 403, 'FORBIDDEN');
    });

    it('a missing or bad token is 401', async () => {
      await refused(() => app.http().post(`/v1/customers/${customerId}/orders`).send({ lineItems: [validLine] }), 401, 'UNAUTHENTICATED');
      await refused(order({ lineItems: [validLine] }, { authorization: 'Bearer not.a.jwt' }), 401, 'UNAUTHENTICATED');
      // Right claims, wrong secret.
      const forged = await signToken(
        { sub: 'user-AdminAgent', tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'] },
        'another-secret-that-is-long-enough-for-hs256-9876543210',
        { expiresIn: '1h' },
      );
      await refused(order({ lineItems: [validLine] }, { authorization: `Bearer ${forged}` }), 401, 'UNAUTHENTICATED');
    });
  });

  describe('idempotency misuse', () => {
    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and appends nothing', async () => {
      await order({ lineItems: [validLine] }, { idempotencyKey: 'bad-input-key-1' })().expect(201);
      await refused(order({ lineItems: [{ ...validLine, quantity: 2 }] }, { idempotencyKey: 'bad-input-key-1' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('an Idempotency-Key over 255 characters is 400', async () => {
      await refused(order({ lineItems: [validLine] }, { idempotencyKey: 'k'.repeat(256) }), 400, 'VALIDATION_FAILED');
    });
  });
});
