import { E2eApp } from '../support/e2e-harness';
import { addMonths } from './support/calendar';
import { commitOf, expectProblem, getSubscription, invalidFields, ofType, registerCustomer, SKU, unitPrice } from './support/e2e-support';

/**
 * POST /v1/import/purchases: an Importer service backfills historic purchases with their real date;
 * every renewal, expiry and installment due since then is appended by the import itself.
 */
describe('backfill of historic purchases', () => {
  const now = '2026-11-30T08:00:00.000Z';
  let app: E2eApp;
  let admin: string;
  let importer: string;
  let customerId: string;

  beforeAll(async () => {
    app = await E2eApp.start({ now });
    admin = await app.token({ roles: ['AdminAgent'] });
    importer = await app.token({ roles: ['Importer'], kind: 'service', sub: 'legacy-importer' });
    customerId = (await registerCustomer(app, { token: admin })).id;
  });
  afterAll(() => app.stop());

  const backfill = (body: object, authorization = importer) =>
    app.http().post('/v1/import/purchases').set('Authorization', authorization).send(body);

  it('only a service with the Importer role may backfill (others 403, nothing appended)', async () => {
    const body = { customerId, purchasedAt: '2022-01-10T00:00:00Z', lineItems: [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }] };
    const callers = [
      await app.token({ roles: ['AdminAgent', 'GlobalAdmin'] }),
      await app.token({ roles: ['AdminAgent', 'GlobalAdmin'], kind: 'service' }),
      await app.token({ roles: ['Importer'], kind: 'partner' }),
      await app.token({ roles: ['Importer'], kind: 'customer', tenant: customerId }),
    ];
    const before = (await app.events()).length;
    for (const caller of callers) expectProblem(await backfill(body, caller), 403, 'FORBIDDEN');
    // An Importer of another partner does not see this customer at all.
    const foreignImporter = await app.token({ roles: ['Importer'], kind: 'service', tenant: 'partner-2' });
    expectProblem(await backfill(body, foreignImporter), 404);
    expect(await app.events()).toHaveLength(before);
  });

  it('a P1Y subscription bought 2021-10-14T00:00Z is in its 2026 term, active and listed; the answer position covers the renewals', async () => {
    const purchasedAt = '2021-10-14T00:00:00.000Z';
    const response = await backfill({ customerId, purchasedAt: '2021-10-14T00:00:00Z', lineItems: [{ skuId: SKU.standard1y, quantity: 2, billingCycle: 'annual' }] });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ customerId, creationDate: purchasedAt, backfilled: true });
    const id: string = response.body.lineItems[0].subscriptionId;
    const position: string = response.headers['x-log-position'];

    // Every transition of this subscription is at or before the answered position.
    const stream = (await app.events()).filter((event) => event.streamName === `subscription-${id}`);
    expect(stream.length).toBeGreaterThan(0);
    for (const event of stream) expect(event.position.commit <= commitOf(position)).toBe(true);
    expect(stream.at(-1)!.position.commit).toBe(commitOf(position));

    // Renewed on each 14 October 2022..2026; one annual installment per term, at its start.
    const termStarts = Array.from({ length: 6 }, (_, index) => addMonths(purchasedAt, 12 * index));
    expect(ofType(stream, 'SubscriptionRenewed').map((event) => event.data['renewedAt'])).toEqual(termStarts.slice(1));
    const price = unitPrice(SKU.standard1y, 'DE').amount * 2;
    expect(ofType(stream, 'InstallmentBilled').map((event) => [event.data['termNumber'], event.data['dueAt'], (event.data['amount'] as { amount: number }).amount])).toEqual(
      termStarts.map((start, index) => [index + 1, start, price]),
    );
    expect(ofType(stream, 'SubscriptionExpired')).toEqual([]);

    const subscription = await getSubscription(app, customerId, id, admin, position);
    expect(subscription).toMatchObject({
      status: 'active',
      autoRenewEnabled: true,
      termNumber: 6,
      termStartDate: '2026-10-14T00:00:00.000Z',
      termEndDate: '2027-10-14T00:00:00.000Z',
      purchaseDate: purchasedAt,
      cancellable: false,
    });
    const list = await app.http().get(`/v1/customers/${customerId}/subscriptions`).set('Authorization', admin).set('X-Min-Position', position).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toContain(id);

    // Running the scheduler now finds nothing left to do for it.
    const before = (await app.events()).length;
    await app.runScheduler();
    expect(await app.events()).toHaveLength(before);
  });

  it('a subscription bought 2021-10-13T23:59:59Z expired in 2022: not in the subscriptions list, but its order is in the orders list', async () => {
    const response = await backfill({ customerId, purchasedAt: '2021-10-13T23:59:59Z', lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'monthly' }] });
    expect(response.status).toBe(201);
    const orderId: string = response.body.id;
    const id: string = response.body.lineItems[0].subscriptionId;
    const position: string = response.headers['x-log-position'];

    const subscription = await getSubscription(app, customerId, id, admin, position);
    expect(subscription).toMatchObject({ status: 'expired', expirationDate: '2022-10-13T23:59:59.000Z', autoRenewEnabled: false, termNumber: 1 });

    const stream = (await app.events()).filter((event) => event.streamName === `subscription-${id}`);
    expect(stream.at(-1)!.position.commit).toBe(commitOf(position));
    expect(ofType(stream, 'SubscriptionRenewed')).toEqual([]);
    expect(ofType(stream, 'SubscriptionExpired').map((event) => event.data['expiredAt'])).toEqual(['2022-10-13T23:59:59.000Z']);
    // All twelve monthly installments of the one term were billed, each once.
    const billed = ofType(stream, 'InstallmentBilled');
    expect(billed.map((event) => event.data['sequence'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(billed.map((event) => event.data['dueAt'])).toEqual(Array.from({ length: 12 }, (_, index) => addMonths('2021-10-13T23:59:59.000Z', index)));
    expect(billed.reduce((sum, event) => sum + (event.data['amount'] as { amount: number }).amount, 0)).toBe(unitPrice(SKU.datacenter1y, 'DE').amount);

    const list = await app.http().get(`/v1/customers/${customerId}/subscriptions`).set('Authorization', admin).set('X-Min-Position', position).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
    const orders = await app.http().get(`/v1/customers/${customerId}/orders`).set('Authorization', admin).set('X-Min-Position', position).expect(200);
    expect(orders.body.items.map((order: { id: string }) => order.id)).toContain(orderId);

    // Autorenew can never be switched on for a pre-2021-10-14 purchase.
    const before = (await app.events()).length;
    const refused = await app.http().patch(`/v1/customers/${customerId}/subscriptions/${id}`).set('Authorization', admin).send({ autoRenewEnabled: true });
    expectProblem(refused, 422, 'AUTORENEW_NOT_AVAILABLE');
    expect(await app.events()).toHaveLength(before);
  });

  it('refuses a purchase date in the future with 422 PURCHASE_DATE_IN_FUTURE, and malformed dates with 400', async () => {
    const before = (await app.events()).length;
    const line = [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }];
    expectProblem(await backfill({ customerId, purchasedAt: '2026-11-30T08:00:00.001Z', lineItems: line }), 422, 'PURCHASE_DATE_IN_FUTURE');
    expectProblem(await backfill({ customerId, purchasedAt: '2027-01-01T00:00:00Z', lineItems: line }), 422, 'PURCHASE_DATE_IN_FUTURE');
    const malformed = await backfill({ customerId, purchasedAt: 'last tuesday', lineItems: line });
    expectProblem(malformed, 400, 'VALIDATION_FAILED');
    expect(invalidFields(malformed)).toContain('purchasedAt');
    expectProblem(await backfill({ purchasedAt: '2022-01-01T00:00:00Z', lineItems: line }), 400, 'VALIDATION_FAILED');
    expect(await app.events()).toHaveLength(before);
  });

  it('is idempotent with an Idempotency-Key: the repeat answers the same and appends nothing', async () => {
    const body = {
      customerId,
      purchasedAt: '2023-02-28T16:00:00Z',
      lineItems: [
        { skuId: SKU.rdsCal, quantity: 4, billingCycle: 'monthly' },
        { skuId: SKU.sqlStandard3y, quantity: 1, billingCycle: 'annual' },
      ],
    };
    const first = await app.http().post('/v1/import/purchases').set('Authorization', importer).set('Idempotency-Key', 'import-2023-02-28').send(body).expect(201);
    const after = await app.events();
    // The monthly line: 46 installments Feb 2023 .. Nov 2026 over terms 1-4; the P3Y line renewed on 2026-02-28.
    const [monthlyId, p3yId] = first.body.lineItems.map((line: { subscriptionId: string }) => line.subscriptionId) as [string, string];
    expect(ofType(after, 'InstallmentBilled', monthlyId)).toHaveLength(46);
    expect(ofType(after, 'SubscriptionRenewed', monthlyId)).toHaveLength(3);
    expect(ofType(after, 'InstallmentBilled', p3yId).map((event) => [event.data['termNumber'], event.data['dueAt']])).toEqual([
      [1, '2023-02-28T16:00:00.000Z'],
      [1, '2024-02-28T16:00:00.000Z'],
      [1, '2025-02-28T16:00:00.000Z'],
      [2, '2026-02-28T16:00:00.000Z'],
    ]);

    const again = await app.http().post('/v1/import/purchases').set('Authorization', importer).set('Idempotency-Key', 'import-2023-02-28').send(body).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['x-log-position']).toBe(first.headers['x-log-position']);
    expect(await app.events()).toHaveLength(after.length);
  });

  it('concurrent retries of one import with one key: identical answers, every transition once', async () => {
    const body = { customerId, purchasedAt: '2022-06-15T06:00:00Z', lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'monthly' }] };
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        app.http().post('/v1/import/purchases').set('Authorization', importer).set('Idempotency-Key', 'import-2022-06-15').send(body),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(201));
    for (const response of responses) expect(response.body).toEqual(responses[0]!.body);
    const id: string = responses[0]!.body.lineItems[0].subscriptionId;
    const events = await app.events();
    expect(ofType(events, 'OrderPlaced').filter((event) => event.data['orderId'] === responses[0]!.body.id)).toHaveLength(1);
    // Jun 2022 .. Nov 2026: 54 monthly installments over terms 1-5, renewed each 15 June 2023..2026.
    const billed = ofType(events, 'InstallmentBilled', id).map((event) => `${event.data['termNumber']}.${event.data['sequence']}`);
    expect(new Set(billed).size).toBe(billed.length);
    expect(billed).toHaveLength(12 * 4 + 6);
    expect(ofType(events, 'SubscriptionRenewed', id).map((event) => event.data['renewedAt'])).toEqual(
      ['2023', '2024', '2025', '2026'].map((year) => `${year}-06-15T06:00:00.000Z`),
    );
  });
});

describe('a legacy purchase still in its term', () => {
  it('cannot switch autorenew on, and expires at its term end instead of renewing', async () => {
    const app = await E2eApp.start({ now: '2022-03-01T00:00:00.000Z' });
    try {
      const admin = await app.token({ roles: ['AdminAgent'] });
      const importer = await app.token({ roles: ['Importer'], kind: 'service' });
      const customerId = (await registerCustomer(app, { token: admin })).id;
      const response = await app
        .http()
        .post('/v1/import/purchases')
        .set('Authorization', importer)
        .send({ customerId, purchasedAt: '2021-09-01T12:00:00Z', lineItems: [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }] })
        .expect(201);
      const id: string = response.body.lineItems[0].subscriptionId;
      expect(await getSubscription(app, customerId, id, admin, response.headers['x-log-position'])).toMatchObject({
        status: 'active',
        autoRenewEnabled: false,
      });

      const before = (await app.events()).length;
      for (const autoRenewEnabled of [true, false]) {
        const refused = await app.http().patch(`/v1/customers/${customerId}/subscriptions/${id}`).set('Authorization', admin).send({ autoRenewEnabled });
        expectProblem(refused, 422, 'AUTORENEW_NOT_AVAILABLE');
      }
      expect(await app.events()).toHaveLength(before);

      app.clock.set('2022-09-01T12:00:00.000Z');
      await app.runScheduler();
      expect(await getSubscription(app, customerId, id, admin)).toMatchObject({ status: 'expired', expirationDate: '2022-09-01T12:00:00.000Z' });
      expect(ofType(await app.events(), 'SubscriptionRenewed', id)).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
