import { E2eApp } from '../support/e2e-harness';
import { buy, eventCount, expectProblem, invalidFields, registerCustomer, SKU } from './support/e2e-support';

/** `null` is not "left out", nested lines must be objects, and instants must name one instant. */
describe('strict input: null members, nested arrays, ambiguous instants', () => {
  let app: E2eApp;
  let admin: string;
  let importer: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
    importer = await app.token({ roles: ['Importer'], kind: 'service' });
  });
  afterAll(() => app.stop());

  async function expectRefusedWithoutAppending(send: () => Promise<import('supertest').Response>, field: string): Promise<void> {
    const before = await eventCount(app);
    const response = await send();
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(invalidFields(response)).toContain(field);
    expect(await eventCount(app)).toBe(before);
  }

  it.each([
    [{ autoRenewEnabled: null }, 'autoRenewEnabled'],
    [{ status: null }, 'status'],
  ])('refuses PATCH subscription %j: it neither changes autorenew nor cancels', async (body, field) => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const path = `/v1/customers/${customer.id}/subscriptions/${order.body.lineItems[0].subscriptionId}`;
    await expectRefusedWithoutAppending(() => app.http().patch(path).set('Authorization', admin).send(body), field);
  });

  it('refuses PATCH order with lineItems: null instead of cancelling every perpetual line', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    await expectRefusedWithoutAppending(
      () => app.http().patch(`/v1/customers/${customer.id}/orders/${order.body.id}`).set('Authorization', admin).send({ status: 'cancelled', lineItems: null }),
      'lineItems',
    );
  });

  it('refuses a purchase whose line is an array, with 400 rather than UNKNOWN_SKU', async () => {
    const customer = await registerCustomer(app);
    await expectRefusedWithoutAppending(
      () => app.http().post(`/v1/customers/${customer.id}/orders`).set('Authorization', admin).send({ lineItems: [[]] }),
      'lineItems',
    );
  });

  it('refuses a friendlyName of null', async () => {
    const customer = await registerCustomer(app);
    await expectRefusedWithoutAppending(
      () =>
        app
          .http()
          .post(`/v1/customers/${customer.id}/orders`)
          .set('Authorization', admin)
          .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual', friendlyName: null }] }),
      'lineItems[0].friendlyName',
    );
  });

  it.each(['2021-W41-4', '20211014', '2021-10-14T10Z', '2021-10-14T00:00:00', '2021-10-14', '2021-02-30T00:00:00Z'])(
    'refuses a backfill dated %j: not one unambiguous instant',
    async (purchasedAt) => {
      const customer = await registerCustomer(app);
      await expectRefusedWithoutAppending(
        () =>
          app
            .http()
            .post('/v1/import/purchases')
            .set('Authorization', importer)
            .send({ customerId: customer.id, purchasedAt, lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] }),
        'purchasedAt',
      );
    },
  );

  it.each([
    ['2021-10-14T02:00:00+02:00', '2021-10-14T00:00:00.000Z'],
    ['2021-10-14T00:00Z', '2021-10-14T00:00:00.000Z'],
  ])('accepts a backfill dated %j as the instant %s', async (purchasedAt, instant) => {
    const customer = await registerCustomer(app);
    const response = await app
      .http()
      .post('/v1/import/purchases')
      .set('Authorization', importer)
      .send({ customerId: customer.id, purchasedAt, lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] });
    expect(response.status).toBe(201);
    expect(response.body.creationDate).toBe(instant);
  });

  it('refuses a control character in a company name (PostgreSQL text cannot hold NUL)', async () => {
    const body = { id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', companyName: 'Acme\u0000', domain: 'acme-nul.example', country: 'DE' };
    await expectRefusedWithoutAppending(() => app.http().post('/v1/customers').set('Authorization', admin).send(body), 'companyName');
  });

  it('refuses a control character in a friendly name', async () => {
    const customer = await registerCustomer(app);
    const body = { lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual', friendlyName: 'a\u0000b' }] };
    await expectRefusedWithoutAppending(
      () => app.http().post(`/v1/customers/${customer.id}/orders`).set('Authorization', admin).send(body),
      'lineItems[0].friendlyName',
    );
  });

  it('refuses a control character in a path reference with 400, before any lookup', async () => {
    const response = await app.http().get('/v1/customers/abc%00def').set('Authorization', admin);
    expectProblem(response, 400, 'VALIDATION_FAILED');
  });

  it('refuses a body nested thousands of levels deep with 400, not a stack overflow', async () => {
    const customer = await registerCustomer(app);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const before = await eventCount(app);
    const response = await app
      .http()
      .post(`/v1/customers/${customer.id}/orders`)
      .set('Authorization', admin)
      .set('Content-Type', 'application/json')
      .send(`{"lineItems":[{"skuId":"${SKU.datacenter1y}","quantity":1,"billingCycle":"annual"}],"x":${deep}}`);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(await eventCount(app)).toBe(before);
  });

  it('refuses a body of tens of thousands of values with 400 before validation walks them', async () => {
    const customer = await registerCustomer(app);
    const before = await eventCount(app);
    const started = Date.now();
    const response = await app
      .http()
      .post(`/v1/customers/${customer.id}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: Array.from({ length: 40_000 }, () => ({})) });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await eventCount(app)).toBe(before);
  });
});
