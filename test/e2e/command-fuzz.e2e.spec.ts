import type { LogPosition } from '@csp/event-store';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { E2eApp } from '../support/e2e-harness';
import { newTenantId, placeOrder, registerCustomer, SKU } from './support/e2e-support';

/** Per command DTO: five DTOs stay near a minute on the embedded store (longer over gRPC to EventStoreDB). */
const RUNS = 100;
const PER_DTO_TIMEOUT_MS = 150_000;

/** Values no command member should accept, and values that break naive code. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324, 0.5, -0),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ud800', '\ufffe', 'x'.repeat(300), '__proto__', 'constructor', '2021-02-30T00:00:00Z'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const prototypeKey = fc.constantFrom('__proto__', 'constructor', 'prototype');

/**
 * Bodies around a valid one: the valid body itself, one member replaced by a hostile value, one
 * member left out, an unknown or prototype member added (as raw JSON, so `__proto__` stays a
 * member), deep nesting, and arbitrary JSON.
 */
function bodiesAround(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  const json = (body: unknown): string => JSON.stringify(body);
  return fc.oneof(
    valid.map(json),
    fc
      .tuple(valid, fc.nat(), hostileValue)
      .map(([body, pick, value]) => {
        const keys = Object.keys(body);
        return json({ ...body, [keys[pick % keys.length]!]: value });
      }),
    fc.tuple(valid, fc.nat()).map(([body, pick]) => {
      const keys = Object.keys(body);
      const { [keys[pick % keys.length]!]: _left, ...rest } = body;
      return json(rest);
    }),
    fc.tuple(valid, prototypeKey, fc.jsonValue({ maxDepth: 1 })).map(([body, key, value]) => `${json(body).slice(0, -1)},"${key}":${json(value)}}`),
    fc.tuple(valid, fc.string({ minLength: 1, maxLength: 10 }), hostileValue).map(([body, key, value]) => json({ ...body, [`x${key}`]: value })),
    fc.integer({ min: 30, max: 200 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    fc.jsonValue({ maxDepth: 3 }).map(json),
  );
}

const lineItem = fc.record({
  skuId: fc.constantFrom(SKU.datacenter1y, SKU.standard1y, SKU.office, 'no-such-sku'),
  quantity: fc.integer({ min: -2, max: 10_002 }),
  billingCycle: fc.constantFrom('annual', 'monthly', 'oneTime', 'triennial'),
});

describe('property: no command body, however hostile, gets a 5xx or appends when refused', () => {
  let app: E2eApp;
  let admin: string;
  let importer: string;
  let customerId: string;
  let subscriptionId: string;
  let orderId: string;

  beforeAll(async () => {
    app = await E2eApp.start({ now: '2026-06-01T09:00:00.000Z' });
    admin = await app.token({ roles: ['AdminAgent'] });
    importer = await app.token({ roles: ['Importer'], kind: 'service' });
    customerId = (await registerCustomer(app)).id;
    const order = await placeOrder(app, customerId, [
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
    ]);
    orderId = order.id;
    subscriptionId = order.subscriptionIds[0]!;
  });
  afterAll(() => app.stop());

  let sent = 0;

  /**
   * The events appended since `from` by the request with this correlation id. Asked by correlation,
   * not by counting, because work an earlier accepted body started (a reactor after a cancellation)
   * may append meanwhile.
   */
  async function appendedFor(correlationId: string, from: LogPosition | undefined): Promise<string[]> {
    const types: string[] = [];
    for await (const event of app.eventStore.readAll(from ? { fromPosition: from } : {})) {
      if (event.metadata.correlationId === correlationId) types.push(event.type);
    }
    return types;
  }

  /** Sends each body; a 5xx fails the property, and a refused body must have appended nothing. */
  async function check(bodies: fc.Arbitrary<string>, send: (body: string, correlationId: string) => Promise<Response>): Promise<void> {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const correlationId = `fuzz-${++sent}`;
        const before = await app.eventStore.headPosition();
        const response = await send(body, correlationId);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.body.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
          expect(await appendedFor(correlationId, before)).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
  }

  const raw = (method: 'post' | 'patch', path: string, token: string) => (body: string, correlationId: string) =>
    app
      .http()
      [method](path)
      .set('Authorization', token)
      .set('X-Correlation-Id', correlationId)
      .set('Content-Type', 'application/json')
      .send(body);

  it('customer registration', async () => {
    const valid = fc.record({
      id: fc.uuid().map(() => newTenantId()),
      companyName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
      domain: fc.domain(),
      country: fc.constantFrom('DE', 'US', 'FR', 'XK', 'ZZ'),
    });
    await check(bodiesAround(valid), raw('post', '/v1/customers', admin));
  }, PER_DTO_TIMEOUT_MS);

  it('purchase', async () => {
    const valid = fc.record({ lineItems: fc.array(lineItem, { minLength: 1, maxLength: 3 }) });
    await check(bodiesAround(valid), raw('post', `/v1/customers/${customerId}/orders`, admin));
  }, PER_DTO_TIMEOUT_MS);

  it('subscription patch', async () => {
    const valid = fc.oneof(fc.record({ autoRenewEnabled: fc.boolean() }), fc.record({ status: fc.constantFrom('cancelled', 'active') }));
    await check(bodiesAround(valid), raw('patch', `/v1/customers/${customerId}/subscriptions/${subscriptionId}`, admin));
  }, PER_DTO_TIMEOUT_MS);

  it('order patch', async () => {
    const valid = fc.record({
      status: fc.constantFrom('cancelled', 'completed'),
      lineItems: fc.array(fc.record({ lineItemNumber: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 2 }),
    });
    await check(bodiesAround(valid), raw('patch', `/v1/customers/${customerId}/orders/${orderId}`, admin));
  }, PER_DTO_TIMEOUT_MS);

  it('import', async () => {
    const valid = fc.record({
      customerId: fc.constantFrom(customerId, newTenantId(), 'unknown.example.com'),
      purchasedAt: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2027-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
      lineItems: fc.array(lineItem, { minLength: 1, maxLength: 2 }),
    });
    await check(bodiesAround(valid), raw('post', '/v1/import/purchases', importer));
  }, PER_DTO_TIMEOUT_MS);
});
