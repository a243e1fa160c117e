import { E2eApp } from '../support/e2e-harness';
import { addDays, addMs, nextMonth } from './support/calendar';
import { buy, eventCount, expectProblem, get, invalidFields, linePrice, logPosition, newTenantId, postOrder, registerCustomer, SKU } from './support/e2e-support';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface OrderLine {
  lineItemNumber: number;
  skuId: string;
  quantity: number;
  billingCycle: string;
  subscriptionId?: string;
  price: { amount: number; currency: string };
  taxIncluded: boolean;
  status: string;
  cancellationAllowedUntil?: string;
  cancellationWindowPassed?: boolean;
  cancellable?: boolean;
  keyAvailable?: boolean;
}

describe('orders: POST/GET/PATCH /v1/customers/{id}/orders', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const patchOrder = (customerId: string, orderId: string, body: object, token = admin) =>
    app.http().patch(`/v1/customers/${customerId}/orders/${orderId}`).set('Authorization', token).send(body);

  describe('purchase', () => {
    it('answers 201 with the order: one line per item, subscriptions for subscription lines only, catalogue prices', async () => {
      const customer = await registerCustomer(app);
      const now = app.clock.now();
      const response = await postOrder(app, customer.id, [
        { skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 3, billingCycle: 'oneTime' },
        { skuId: SKU.rdsCal, quantity: 5, billingCycle: 'monthly' },
      ]);
      expect(response.status).toBe(201);
      logPosition(response);
      const order = response.body;
      expect(order.id).toMatch(UUID);
      expect(order.customerId).toBe(customer.id);
      expect(typeof order.status).toBe('string');
      expect(order.creationDate).toBe(now);
      const lines = order.lineItems as OrderLine[];
      expect(lines.map((line) => [line.lineItemNumber, line.skuId, line.quantity, line.billingCycle])).toEqual([
        [1, SKU.datacenter1y, 2, 'annual'],
        [2, SKU.office, 3, 'oneTime'],
        [3, SKU.rdsCal, 5, 'monthly'],
      ]);
      expect(lines.map((line) => line.price)).toEqual([
        linePrice(SKU.datacenter1y, 'DE', 2),
        linePrice(SKU.office, 'DE', 3),
        linePrice(SKU.rdsCal, 'DE', 5),
      ]);
      expect(lines.every((line) => line.taxIncluded === false)).toBe(true);
      expect(lines[0]!.subscriptionId).toMatch(UUID);
      expect(lines[2]!.subscriptionId).toMatch(UUID);
      expect(lines[0]!.subscriptionId).not.toBe(lines[2]!.subscriptionId);
      expect(lines[1]).not.toHaveProperty('subscriptionId');
    });

    it('prices an Australian customer in AUD with tax included on every line', async () => {
      const customer = await registerCustomer(app, { country: 'AU' });
      const response = await buy(app, customer.id, [
        { skuId: SKU.standard1y, quantity: 4, billingCycle: 'monthly' },
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      ]);
      const lines = response.body.lineItems as OrderLine[];
      expect(lines.map((line) => line.price)).toEqual([linePrice(SKU.standard1y, 'AU', 4), linePrice(SKU.office, 'AU', 1)]);
      expect(lines.every((line) => line.taxIncluded === true)).toBe(true);
    });

    it('accepts the quantity bounds 1 and 10,000', async () => {
      const customer = await registerCustomer(app);
      const response = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.office, quantity: 10_000, billingCycle: 'oneTime' },
      ]);
      expect(response.body.lineItems[1].price).toEqual(linePrice(SKU.office, 'DE', 10_000));
    });

    it('answers 422 UNKNOWN_SKU and appends nothing, even when other lines are fine', async () => {
      const customer = await registerCustomer(app);
      const before = await eventCount(app);
      const response = await postOrder(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: 'windows-95:PERPETUAL', quantity: 1, billingCycle: 'oneTime' },
      ]);
      expectProblem(response, 422, 'UNKNOWN_SKU');
      expect(await eventCount(app)).toBe(before);
    });

    it.each<[string, string, string]>([
      [SKU.datacenter3y, 'monthly', 'monthly on a three-year SKU'],
      [SKU.datacenter1y, 'triennial', 'triennial on a one-year SKU'],
      [SKU.rdsCal, 'annual', 'annual on the RDS CAL (monthly only)'],
      [SKU.datacenter1y, 'oneTime', 'oneTime on a subscription'],
      [SKU.office, 'annual', 'annual on perpetual software'],
    ])('answers 422 BILLING_PLAN_NOT_OFFERED for %s %s (%s)', async (skuId, billingCycle) => {
      const customer = await registerCustomer(app);
      const before = await eventCount(app);
      expectProblem(await postOrder(app, customer.id, [{ skuId, quantity: 1, billingCycle }]), 422, 'BILLING_PLAN_NOT_OFFERED');
      expect(await eventCount(app)).toBe(before);
    });

    it('accepts annual and triennial on a three-year SKU and monthly on the RDS CAL', async () => {
      const customer = await registerCustomer(app);
      const response = await buy(app, customer.id, [
        { skuId: SKU.datacenter3y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.datacenter3y, quantity: 1, billingCycle: 'triennial' },
        { skuId: SKU.rdsCal, quantity: 1, billingCycle: 'monthly' },
      ]);
      expect(response.body.lineItems.map((line: OrderLine) => line.billingCycle)).toEqual(['annual', 'triennial', 'monthly']);
    });

    it.each([
      ['CN', 'China'],
      ['UM', 'United States Minor Outlying Islands (not the USA)'],
      ['XK', 'Kosovo'],
      ['AQ', 'Antarctica'],
    ])('refuses an Azure Reservation for a customer in %s (%s): 422 AZURE_RESERVATIONS_UNAVAILABLE', async (country) => {
      const customer = await registerCustomer(app, { country });
      const before = await eventCount(app);
      const response = await postOrder(app, customer.id, [{ skuId: SKU.azure1y, quantity: 1, billingCycle: 'annual' }]);
      expectProblem(response, 422, 'AZURE_RESERVATIONS_UNAVAILABLE');
      expect(await eventCount(app)).toBe(before);
    });

    it.each(['DE', 'US'])('sells an Azure Reservation to a customer in %s', async (country) => {
      const customer = await registerCustomer(app, { country });
      const response = await buy(app, customer.id, [{ skuId: SKU.azure1y, quantity: 3, billingCycle: 'monthly' }]);
      expect(response.body.lineItems[0].price).toEqual(linePrice(SKU.azure1y, country, 3));
      expect(response.body.lineItems[0].subscriptionId).toMatch(UUID);
    });

    it('sells other products to a Kosovo customer (XK is a market)', async () => {
      const customer = await registerCustomer(app, { country: 'XK' });
      const response = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
      expect(response.body.lineItems[0].price).toEqual(linePrice(SKU.datacenter1y, 'XK', 1));
    });

    it('answers 404 UNKNOWN_CUSTOMER for a tenant GUID nobody registered', async () => {
      const before = await eventCount(app);
      const response = await postOrder(app, newTenantId(), [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      expectProblem(response, 404, 'UNKNOWN_CUSTOMER');
      expect(await eventCount(app)).toBe(before);
    });

    it("answers 404 UNKNOWN_CUSTOMER for another partner's customer", async () => {
      const customer = await registerCustomer(app);
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      const response = await postOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], otherPartner);
      expectProblem(response, 404, 'UNKNOWN_CUSTOMER');
    });

    it('lets a partner AdminAgent, a partner GlobalAdmin and an AdminAgent service buy', async () => {
      const customer = await registerCustomer(app);
      const line = [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }];
      for (const token of [
        await app.token({ roles: ['AdminAgent'] }),
        await app.token({ roles: ['GlobalAdmin'] }),
        await app.token({ roles: ['AdminAgent'], kind: 'service' }),
      ]) {
        expect((await postOrder(app, customer.id, line, token)).status).toBe(201);
      }
    });

    it.each([['AccountAdmin'], ['BillingAdmin'], ['ReferralAdmin'], ['MarketingContentAdmin'], ['Importer']] as const)(
      'refuses a partner %s with 403 FORBIDDEN',
      async (role) => {
        const customer = await registerCustomer(app);
        const token = await app.token({ roles: [role] });
        const before = await eventCount(app);
        expectProblem(await postOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], token), 403, 'FORBIDDEN');
        expect(await eventCount(app)).toBe(before);
      },
    );

    it("refuses the customer's own GlobalAdmin (a customer user) with 403", async () => {
      const customer = await registerCustomer(app);
      const own = await app.token({ roles: ['GlobalAdmin', 'AdminAgent'], kind: 'customer', tenant: customer.id });
      expectProblem(await postOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], own), 403, 'FORBIDDEN');
    });

    it('refuses a service without AdminAgent or GlobalAdmin with 403', async () => {
      const customer = await registerCustomer(app);
      const importer = await app.token({ roles: ['Importer'], kind: 'service' });
      expectProblem(
        await postOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], importer),
        403,
        'FORBIDDEN',
      );
    });

    it.each([
      [{ skuId: SKU.office, quantity: 0, billingCycle: 'oneTime' }, 'lineItems[0].quantity'],
      [{ skuId: SKU.office, quantity: 10_001, billingCycle: 'oneTime' }, 'lineItems[0].quantity'],
      [{ skuId: SKU.office, quantity: 1.5, billingCycle: 'oneTime' }, 'lineItems[0].quantity'],
      [{ skuId: SKU.office, quantity: '1', billingCycle: 'oneTime' }, 'lineItems[0].quantity'],
      [{ skuId: SKU.office, quantity: 1, billingCycle: 'weekly' }, 'lineItems[0].billingCycle'],
      [{ skuId: SKU.office, quantity: 1 }, 'lineItems[0].billingCycle'],
      [{ quantity: 1, billingCycle: 'oneTime' }, 'lineItems[0].skuId'],
      [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime', colour: 'red' }, 'lineItems[0].colour'],
    ])('answers 400 VALIDATION_FAILED for line %j naming %s', async (line, field) => {
      const customer = await registerCustomer(app);
      const response = await app
        .http()
        .post(`/v1/customers/${customer.id}/orders`)
        .set('Authorization', admin)
        .send({ lineItems: [line] });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toEqual([field]);
    });

    it('answers 400 for an empty or missing lineItems list and for unknown top-level fields', async () => {
      const customer = await registerCustomer(app);
      const send = (body: object) => app.http().post(`/v1/customers/${customer.id}/orders`).set('Authorization', admin).send(body);
      for (const body of [{ lineItems: [] }, {}, { lineItems: [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], poNumber: 'x' }]) {
        expectProblem(await send(body), 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('read', () => {
    it('lists every order of the customer at the last purchase position', async () => {
      const customer = await registerCustomer(app);
      const first = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const second = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
      const response = await get(app, `/v1/customers/${customer.id}/orders`, admin, logPosition(second));
      expect(response.status).toBe(200);
      expect(response.body.totalCount).toBe(2);
      expect(response.body.items.map((order: { id: string }) => order.id).sort()).toEqual([first.body.id, second.body.id].sort());
      expect(response.body).not.toHaveProperty('continuationToken');
    });

    it('pages with size and an opaque continuation token, and refuses a token it did not issue', async () => {
      const customer = await registerCustomer(app);
      const ids: string[] = [];
      let last = '';
      for (let index = 0; index < 3; index++) {
        const order = await buy(app, customer.id, [{ skuId: SKU.office, quantity: index + 1, billingCycle: 'oneTime' }]);
        ids.push(order.body.id);
        last = logPosition(order);
      }
      const path = `/v1/customers/${customer.id}/orders`;
      const first = await get(app, `${path}?size=2`, admin, last);
      expect(first.status).toBe(200);
      expect(first.body.totalCount).toBe(3);
      expect(first.body.items).toHaveLength(2);
      expect(typeof first.body.continuationToken).toBe('string');
      const second = await get(app, `${path}?size=2&continuationToken=${encodeURIComponent(first.body.continuationToken)}`, admin, last);
      expect(second.body.items).toHaveLength(1);
      expect(second.body).not.toHaveProperty('continuationToken');
      const seen = [...first.body.items, ...second.body.items].map((order: { id: string }) => order.id);
      expect(seen.sort()).toEqual([...ids].sort());
      expect((await get(app, `${path}?continuationToken=not-a-token`, admin, last)).status).toBe(400);
      expectProblem(await get(app, `${path}?size=0`, admin), 400, 'VALIDATION_FAILED');
    });

    it('lists nothing for a customer without orders', async () => {
      const customer = await registerCustomer(app);
      const response = await get(app, `/v1/customers/${customer.id}/orders`, admin, customer.position);
      expect(response.body).toEqual({ items: [], totalCount: 0 });
    });

    it('shows one order with line statuses and cancellationAllowedUntil (purchase + 30 days) on perpetual lines only', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' },
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      ]);
      const response = await get(app, `/v1/customers/${customer.id}/orders/${placed.body.id}`, admin, logPosition(placed));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: placed.body.id, customerId: customer.id, creationDate: placed.body.creationDate });
      const [perpetual, subscription] = response.body.lineItems as OrderLine[];
      expect(perpetual).toMatchObject({
        skuId: SKU.office,
        status: 'active',
        cancellationAllowedUntil: addDays(placed.body.creationDate, 30),
        cancellationWindowPassed: false,
        cancellable: true,
        keyAvailable: true,
        price: linePrice(SKU.office, 'DE', 2),
      });
      expect(subscription).not.toHaveProperty('cancellationAllowedUntil');
      expect(subscription!.subscriptionId).toBe(placed.body.lineItems[1].subscriptionId);
    });

    it('lets the customer own GlobalAdmin read its orders', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const own = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id });
      const position = logPosition(placed);
      expect((await get(app, `/v1/customers/${customer.id}/orders`, own, position)).body.totalCount).toBe(1);
      expect((await get(app, `/v1/customers/${customer.id}/orders/${placed.body.id}`, own, position)).status).toBe(200);
    });

    it('refuses customer users of another tenant or without GlobalAdmin (403) and hides the orders from other partners (404)', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const position = logPosition(placed);
      const stranger = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: newTenantId() });
      const ownReader = await app.token({ roles: [], kind: 'customer', tenant: customer.id });
      const otherPartner = await app.token({ roles: ['GlobalAdmin'], tenant: 'partner-2' });
      for (const path of [`/v1/customers/${customer.id}/orders`, `/v1/customers/${customer.id}/orders/${placed.body.id}`]) {
        expectProblem(await get(app, path, stranger, position), 403, 'FORBIDDEN');
        expectProblem(await get(app, path, ownReader, position), 403, 'FORBIDDEN');
        expectProblem(await get(app, path, otherPartner, position), 404, 'UNKNOWN_CUSTOMER');
      }
    });

    it("answers 404 ORDER_NOT_FOUND for an unknown order and for another customer's order", async () => {
      const customer = await registerCustomer(app);
      const other = await registerCustomer(app);
      const placed = await buy(app, other.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const position = logPosition(placed);
      expectProblem(await get(app, `/v1/customers/${customer.id}/orders/${newTenantId()}`, admin, position), 404, 'ORDER_NOT_FOUND');
      expectProblem(await get(app, `/v1/customers/${customer.id}/orders/${placed.body.id}`, admin, position), 404, 'ORDER_NOT_FOUND');
    });
  });

  describe('cancel perpetual software (PATCH)', () => {
    it('cancels every perpetual line with a 100 % credit on next month’s invoice; subscription lines stay', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' },
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 5, billingCycle: 'oneTime' },
      ]);
      const now = app.clock.now();
      const response = await patchOrder(customer.id, placed.body.id, { status: 'cancelled' });
      expect(response.status).toBe(200);
      const position = logPosition(response);
      const expectedCredit = linePrice(SKU.office, 'DE', 2).amount + linePrice(SKU.office, 'DE', 5).amount;
      expect(response.body.credit).toEqual({ amount: expectedCredit, currency: 'EUR', invoicePeriod: nextMonth(now) });
      expect(response.body.id).toBe(placed.body.id);

      const view = await get(app, `/v1/customers/${customer.id}/orders/${placed.body.id}`, admin, position);
      const lines = view.body.lineItems as OrderLine[];
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ status: 'cancelled', keyAvailable: false, cancellable: false });
      expect(lines[2]).toMatchObject({ status: 'cancelled', keyAvailable: false, cancellable: false });
      expect(lines[1]!.status).not.toBe('cancelled');
      const subscription = await get(app, `/v1/customers/${customer.id}/subscriptions/${lines[1]!.subscriptionId}`, admin, position);
      expect(subscription.body.status).toBe('active');
      // Still listed after the cancellation.
      const list = await get(app, `/v1/customers/${customer.id}/orders`, admin, position);
      expect(list.body.items.map((order: { id: string }) => order.id)).toContain(placed.body.id);
    });

    it('cancels only the named line, then refuses it again with 409 ALREADY_CANCELLED, then cancels the rest', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.office, quantity: 4, billingCycle: 'oneTime' },
      ]);
      const first = await patchOrder(customer.id, placed.body.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 2 }] });
      expect(first.status).toBe(200);
      expect(first.body.credit.amount).toBe(linePrice(SKU.office, 'DE', 4).amount);
      const lines = first.body.lineItems as OrderLine[];
      expect(lines.map((line) => line.status)).toEqual(['active', 'cancelled']);
      expect(lines.map((line) => line.keyAvailable)).toEqual([true, false]);

      const before = await eventCount(app);
      expectProblem(
        await patchOrder(customer.id, placed.body.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 2 }] }),
        409,
        'ALREADY_CANCELLED',
      );
      expect(await eventCount(app)).toBe(before);

      const rest = await patchOrder(customer.id, placed.body.id, { status: 'cancelled' });
      expect(rest.status).toBe(200);
      expect(rest.body.credit.amount).toBe(linePrice(SKU.office, 'DE', 1).amount);

      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }), 409, 'ALREADY_CANCELLED');
    });

    it('credits exactly once: the ledger-relevant events hold one cancellation per line', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 3, billingCycle: 'oneTime' }]);
      expect((await patchOrder(customer.id, placed.body.id, { status: 'cancelled' })).status).toBe(200);
      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }), 409, 'ALREADY_CANCELLED');
      const cancellations = (await app.events()).filter(
        (event) => event.streamName === `order-${placed.body.id}` && event.type !== 'OrderPlaced',
      );
      expect(cancellations).toHaveLength(1);
    });

    it('credits a line named twice in one request only once', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
        { skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' },
      ]);
      const response = await patchOrder(customer.id, placed.body.id, {
        status: 'cancelled',
        lineItems: [{ lineItemNumber: 1 }, { lineItemNumber: 1 }],
      });
      expect(response.status).toBe(200);
      expect(response.body.credit.amount).toBe(linePrice(SKU.office, 'DE', 1).amount);
      const cancellations = (await app.events()).filter(
        (event) => event.streamName === `order-${placed.body.id}` && event.type !== 'OrderPlaced',
      );
      expect(cancellations).toHaveLength(1);
      expect(response.body.lineItems.map((line: OrderLine) => line.status)).toEqual(['cancelled', 'active']);
    });

    it('answers 422 NOT_A_PERPETUAL_LINE for a subscription line and 422 for a line number the order lacks', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      ]);
      expectProblem(
        await patchOrder(customer.id, placed.body.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 1 }] }),
        422,
        'NOT_A_PERPETUAL_LINE',
      );
      const missing = await patchOrder(customer.id, placed.body.id, { status: 'cancelled', lineItems: [{ lineItemNumber: 7 }] });
      expect(missing.status).toBe(422);
      expect(missing.headers['x-log-position']).toBeUndefined();
    });

    it('answers 422 for an order without perpetual lines', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
      const response = await patchOrder(customer.id, placed.body.id, { status: 'cancelled' });
      expect(response.status).toBe(422);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it.each([['GlobalAdmin'], ['BillingAdmin'], ['AccountAdmin']] as const)('refuses a partner %s with 403', async (role) => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const token = await app.token({ roles: [role] });
      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }, token), 403, 'FORBIDDEN');
    });

    it('refuses the customer own GlobalAdmin with 403 and another partner with 404', async () => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const own = await app.token({ roles: ['GlobalAdmin', 'AdminAgent'], kind: 'customer', tenant: customer.id });
      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }, own), 403, 'FORBIDDEN');
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }, otherPartner), 404, 'UNKNOWN_CUSTOMER');
    });

    it("answers 404 ORDER_NOT_FOUND for an unknown order and for another customer's order", async () => {
      const customer = await registerCustomer(app);
      const other = await registerCustomer(app);
      const placed = await buy(app, other.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      expectProblem(await patchOrder(customer.id, newTenantId(), { status: 'cancelled' }), 404, 'ORDER_NOT_FOUND');
      expectProblem(await patchOrder(customer.id, placed.body.id, { status: 'cancelled' }), 404, 'ORDER_NOT_FOUND');
    });

    it.each([
      [{}, 'status'],
      [{ status: 'active' }, 'status'],
      [{ status: 'cancelled', lineItems: [] }, 'lineItems'],
      [{ status: 'cancelled', lineItems: [{ lineItemNumber: 0 }] }, 'lineItems[0].lineItemNumber'],
      [{ status: 'cancelled', reason: 'x' }, 'reason'],
    ])('answers 400 VALIDATION_FAILED for %j naming %s', async (body, field) => {
      const customer = await registerCustomer(app);
      const placed = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
      const response = await patchOrder(customer.id, placed.body.id, body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain(field);
    });

    // The clock only moves forward in this file, so these come last.
    describe('the 30-day window (clock moves)', () => {
      it('is open one millisecond before 30 days and closed at exactly 30 days, naming the window end', async () => {
        const customer = await registerCustomer(app);
        const purchasedAt = app.clock.now();
        const early = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' }]);
        const late = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
        const windowEnd = addDays(purchasedAt, 30);

        app.clock.set(addMs(windowEnd, -1));
        const justInTime = await patchOrder(customer.id, early.body.id, { status: 'cancelled' });
        expect(justInTime.status).toBe(200);
        expect(justInTime.body.credit).toEqual({
          ...linePrice(SKU.office, 'DE', 2),
          invoicePeriod: nextMonth(app.clock.now()),
        });

        app.clock.set(windowEnd);
        const before = await get(app, `/v1/customers/${customer.id}/orders/${late.body.id}`, admin, logPosition(justInTime));
        expect(before.body.lineItems[0]).toMatchObject({ cancellationWindowPassed: true, cancellable: false, status: 'active' });
        const tooLate = await patchOrder(customer.id, late.body.id, { status: 'cancelled' });
        expectProblem(tooLate, 422, 'CANCELLATION_WINDOW_CLOSED');
        expect(tooLate.body.cancellationAllowedUntil).toBe(windowEnd);
      });
    });
  });
});
