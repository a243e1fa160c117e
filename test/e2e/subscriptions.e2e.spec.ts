import { E2eApp } from '../support/e2e-harness';
import { addDays, addMs, addYears, DAY_MS, installmentsOf } from './support/calendar';
import {
  buy,
  catalogueEntry,
  eventCount,
  expectedRefund,
  expectProblem,
  get,
  invalidFields,
  linePrice,
  logPosition,
  newTenantId,
  registerCustomer,
  SKU,
  type RegisteredCustomer,
  refundAnswer,
} from './support/e2e-support';

describe('subscriptions: GET/PATCH /v1/customers/{id}/subscriptions', () => {
  let app: E2eApp;
  let admin: string;
  let globalAdmin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
    globalAdmin = await app.token({ roles: ['GlobalAdmin'] });
  });
  afterAll(() => app.stop());

  /** Buys one subscription line and waits until the read models show it. */
  async function buyOne(
    customer: RegisteredCustomer,
    skuId: string,
    billingCycle: string,
    options: { quantity?: number; friendlyName?: string } = {},
  ) {
    const order = await buy(app, customer.id, [
      { skuId, quantity: options.quantity ?? 1, billingCycle, ...(options.friendlyName ? { friendlyName: options.friendlyName } : {}) },
    ]);
    const position = logPosition(order);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    // Read-your-writes, so that friendly-name lookups in later commands find it.
    expect((await get(app, `/v1/customers/${customer.id}/subscriptions/${subscriptionId}`, admin, position)).status).toBe(200);
    return { order: order.body, subscriptionId, position, purchasedAt: order.body.creationDate as string };
  }

  /** PATCH a subscription; after `position` when given (a friendly name resolves through the read models). */
  const patch = (customerId: string, ref: string, body: object, token = admin, position?: string) => {
    const call = app.http().patch(`/v1/customers/${customerId}/subscriptions/${encodeURIComponent(ref)}`).set('Authorization', token);
    return (position ? call.set('X-Min-Position', position) : call).send(body);
  };

  describe('list', () => {
    it('lists the subscription lines of every order (not perpetual lines) at the purchase position', async () => {
      const customer = await registerCustomer(app);
      const first = await buy(app, customer.id, [
        { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      ]);
      const second = await buy(app, customer.id, [{ skuId: SKU.rdsCal, quantity: 10, billingCycle: 'monthly' }]);
      const response = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, logPosition(second));
      expect(response.status).toBe(200);
      expect(response.body.totalCount).toBe(2);
      expect(response.body.items.map((item: { id: string }) => item.id).sort()).toEqual(
        [first.body.lineItems[0].subscriptionId, second.body.lineItems[0].subscriptionId].sort(),
      );
    });

    it('returns purchases from 2021-10-14T00:00Z on and leaves out older ones, which the orders list still shows', async () => {
      const customer = await registerCustomer(app, { country: 'US' });
      const importer = await app.token({ roles: ['Importer'], kind: 'service' });
      const importAt = async (purchasedAt: string) => {
        const response = await app
          .http()
          .post('/v1/import/purchases')
          .set('Authorization', importer)
          .send({ customerId: customer.id, purchasedAt, lineItems: [{ skuId: SKU.datacenter3y, quantity: 1, billingCycle: 'annual' }] });
        expect(response.status).toBe(201);
        return response;
      };
      const legacy = await importAt('2021-10-13T23:59:59.999Z');
      const atCutoff = await importAt('2021-10-14T00:00:00.000Z');
      const position = logPosition(atCutoff);

      const subscriptions = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, position);
      expect(subscriptions.body.items.map((item: { id: string }) => item.id)).toEqual([atCutoff.body.lineItems[0].subscriptionId]);
      expect(subscriptions.body.totalCount).toBe(1);

      const orders = await get(app, `/v1/customers/${customer.id}/orders`, admin, position);
      expect(orders.body.items.map((order: { id: string }) => order.id).sort()).toEqual([legacy.body.id, atCutoff.body.id].sort());

      // A legacy subscription cannot have autorenew switched on.
      expectProblem(
        await patch(customer.id, legacy.body.lineItems[0].subscriptionId, { autoRenewEnabled: true }),
        422,
        'AUTORENEW_NOT_AVAILABLE',
      );
    });

    it('lets the customer own GlobalAdmin list, refuses other customer users (403) and hides from other partners (404)', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const path = `/v1/customers/${customer.id}/subscriptions`;
      const own = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id });
      expect((await get(app, path, own, bought.position)).body.totalCount).toBe(1);
      const stranger = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: newTenantId() });
      expectProblem(await get(app, path, stranger, bought.position), 403, 'FORBIDDEN');
      const ownWithoutGlobalAdmin = await app.token({ roles: ['AdminAgent'], kind: 'customer', tenant: customer.id });
      expectProblem(await get(app, path, ownWithoutGlobalAdmin, bought.position), 403, 'FORBIDDEN');
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      expectProblem(await get(app, path, otherPartner, bought.position), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await get(app, `${path}/${bought.subscriptionId}`, otherPartner, bought.position), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await get(app, `${path}/${bought.subscriptionId}`, stranger, bought.position), 403, 'FORBIDDEN');
    });
  });

  describe('read one', () => {
    it('shows the contract fields, computed from the purchase instant and the catalogue', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'monthly', { quantity: 3 });
      const response = await get(app, `/v1/customers/${customer.id}/subscriptions/${bought.subscriptionId}`, admin, bought.position);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: bought.subscriptionId,
        friendlyName: catalogueEntry(SKU.datacenter1y).title,
        orderId: bought.order.id,
        skuId: SKU.datacenter1y,
        status: 'active',
        autoRenewEnabled: true,
        termDuration: 'P1Y',
        billingCycle: 'monthly',
        termStartDate: bought.purchasedAt,
        termEndDate: addYears(bought.purchasedAt, 1),
        cancellationAllowedUntil: addDays(bought.purchasedAt, 7),
        cancellationWindowPassed: false,
        cancellable: true,
        keyAvailable: true,
      });
    });

    it('shows RedHat and SUSE plans as never cancellable, and licence-only products without a key', async () => {
      const customer = await registerCustomer(app);
      for (const skuId of [SKU.rhel1y, SKU.sles1y]) {
        const bought = await buyOne(customer, skuId, 'annual');
        const view = await get(app, `/v1/customers/${customer.id}/subscriptions/${bought.subscriptionId}`, admin, bought.position);
        expect(view.body).toMatchObject({ status: 'active', cancellable: false, cancellationWindowPassed: false });
      }
      const licence = await buyOne(customer, SKU.userCal, 'annual');
      const view = await get(app, `/v1/customers/${customer.id}/subscriptions/${licence.subscriptionId}`, admin, licence.position);
      expect(view.body).toMatchObject({ keyAvailable: false, cancellable: true });
    });

    it('finds a subscription by its friendly name', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.standard1y, 'annual', { friendlyName: 'Build servers' });
      const response = await get(app, `/v1/customers/${customer.id}/subscriptions/Build%20servers`, admin, bought.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(bought.subscriptionId);
      expect(response.body.friendlyName).toBe('Build servers');
    });

    it("answers 404 SUBSCRIPTION_NOT_FOUND for an unknown id, an unknown name and another customer's subscription", async () => {
      const customer = await registerCustomer(app);
      const other = await registerCustomer(app);
      const bought = await buyOne(other, SKU.datacenter1y, 'annual', { friendlyName: 'Other servers' });
      const base = `/v1/customers/${customer.id}/subscriptions`;
      expectProblem(await get(app, `${base}/${newTenantId()}`, admin, bought.position), 404, 'SUBSCRIPTION_NOT_FOUND');
      expectProblem(await get(app, `${base}/Other%20servers`, admin, bought.position), 404, 'SUBSCRIPTION_NOT_FOUND');
      expectProblem(await get(app, `${base}/${bought.subscriptionId}`, admin, bought.position), 404, 'SUBSCRIPTION_NOT_FOUND');
      expectProblem(await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false }), 404, 'SUBSCRIPTION_NOT_FOUND');
      expectProblem(await patch(customer.id, bought.subscriptionId, { status: 'cancelled' }), 404, 'SUBSCRIPTION_NOT_FOUND');
    });
  });

  describe('autorenew', () => {
    it('is switched off by an AdminAgent and on again by a GlobalAdmin; each answer carries a position the reads reflect', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const path = `/v1/customers/${customer.id}/subscriptions/${bought.subscriptionId}`;

      const off = await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ id: bought.subscriptionId, autoRenewEnabled: false, status: 'active' });
      expect((await get(app, path, admin, logPosition(off))).body.autoRenewEnabled).toBe(false);

      const on = await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: true }, globalAdmin);
      expect(on.status).toBe(200);
      expect(on.body.autoRenewEnabled).toBe(true);
      expect((await get(app, path, admin, logPosition(on))).body.autoRenewEnabled).toBe(true);
    });

    it('appends nothing when set to its current value, and still answers 200 with a position', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const before = await eventCount(app);
      const same = await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: true });
      expect(same.status).toBe(200);
      expect(same.body.autoRenewEnabled).toBe(true);
      logPosition(same);
      expect(await eventCount(app)).toBe(before);

      expect((await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false })).status).toBe(200);
      expect(await eventCount(app)).toBe(before + 1);
      expect((await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false }, globalAdmin)).status).toBe(200);
      expect(await eventCount(app)).toBe(before + 1);
    });

    it('is addressed by friendly name too', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.standard1y, 'annual', { friendlyName: 'Domain controllers' });
      const response = await patch(customer.id, 'Domain controllers', { autoRenewEnabled: false }, admin, bought.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(bought.subscriptionId);
    });

    it.each([['BillingAdmin'], ['AccountAdmin'], ['ReferralAdmin']] as const)('refuses a partner %s with 403', async (role) => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const token = await app.token({ roles: [role] });
      expectProblem(await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false }, token), 403, 'FORBIDDEN');
    });

    it('refuses the customer own GlobalAdmin (403) and another partner (404)', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const own = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id });
      expectProblem(await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false }, own), 403, 'FORBIDDEN');
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      expectProblem(await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: false }, otherPartner), 404, 'UNKNOWN_CUSTOMER');
    });

    it('answers 422 AUTORENEW_NOT_AVAILABLE on a cancelled subscription', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      expect((await patch(customer.id, bought.subscriptionId, { status: 'cancelled' })).status).toBe(200);
      expectProblem(await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: true }), 422, 'AUTORENEW_NOT_AVAILABLE');
    });
  });

  describe('PATCH body', () => {
    it.each<[object, string]>([
      [{}, 'neither field'],
      [{ autoRenewEnabled: false, status: 'cancelled' }, 'both fields'],
      [{ status: 'active' }, 'a status other than cancelled'],
      [{ autoRenewEnabled: 'false' }, 'a string for a boolean'],
      [{ autoRenewEnabled: true, friendlyName: 'x' }, 'an unknown field'],
    ])('answers 400 VALIDATION_FAILED for %j (%s) and appends nothing', async (body) => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const before = await eventCount(app);
      const response = await patch(customer.id, bought.subscriptionId, body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors.length).toBeGreaterThan(0);
      expect(await eventCount(app)).toBe(before);
    });

    it('names the offending fields', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const response = await patch(customer.id, bought.subscriptionId, { autoRenewEnabled: 'yes', colour: 'red' });
      expect(invalidFields(response).sort()).toEqual(['autoRenewEnabled', 'colour']);
    });
  });

  describe('cancel', () => {
    it('cancels at the term start with a refund of the whole charge minus one used day', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual', { quantity: 2 });
      const price = linePrice(SKU.datacenter1y, 'DE', 2);
      const response = await patch(customer.id, bought.subscriptionId, { status: 'cancelled' });
      expect(response.status).toBe(200);
      const position = logPosition(response);
      // annual on a one-year term: one installment, the whole term price, charged at purchase.
      const expected = expectedRefund({
        termStart: bought.purchasedAt,
        termEnd: addYears(bought.purchasedAt, 1),
        termPrice: price.amount,
        charged: price.amount,
        at: app.clock.now(),
      });
      expect(expected.usedDays).toBe(1);
      expect(response.body.refund).toEqual(refundAnswer(expected, app.clock.now()));
      expect(response.body).toMatchObject({ id: bought.subscriptionId, status: 'cancelled', keyAvailable: false, cancellable: false });

      const view = await get(app, `/v1/customers/${customer.id}/subscriptions/${bought.subscriptionId}`, admin, position);
      expect(view.body).toMatchObject({ status: 'cancelled', keyAvailable: false, cancellable: false });
      // Cancelled subscriptions stay listed.
      const list = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, position);
      expect(list.body.items.map((item: { id: string }) => item.id)).toContain(bought.subscriptionId);
    });

    it('cancels by friendly name', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.sqlStandard1y, 'annual', { friendlyName: 'SQL cluster' });
      const response = await patch(customer.id, 'SQL cluster', { status: 'cancelled' }, admin, bought.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(bought.subscriptionId);
    });

    it('refuses a second cancellation with 409 ALREADY_CANCELLED and appends nothing', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      expect((await patch(customer.id, bought.subscriptionId, { status: 'cancelled' })).status).toBe(200);
      const before = await eventCount(app);
      expectProblem(await patch(customer.id, bought.subscriptionId, { status: 'cancelled' }), 409, 'ALREADY_CANCELLED');
      expect(await eventCount(app)).toBe(before);
    });

    it.each([SKU.rhel1y, SKU.rhel3y, SKU.sles1y])('refuses %s with 422 NOT_CANCELLABLE, even inside the window', async (skuId) => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, skuId, 'annual');
      const before = await eventCount(app);
      expectProblem(await patch(customer.id, bought.subscriptionId, { status: 'cancelled' }), 422, 'NOT_CANCELLABLE');
      expect(await eventCount(app)).toBe(before);
    });

    it.each([['GlobalAdmin'], ['BillingAdmin']] as const)('refuses a partner %s with 403', async (role) => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const token = await app.token({ roles: [role] });
      expectProblem(await patch(customer.id, bought.subscriptionId, { status: 'cancelled' }, token), 403, 'FORBIDDEN');
      const view = await get(app, `/v1/customers/${customer.id}/subscriptions/${bought.subscriptionId}`, admin, bought.position);
      expect(view.body.status).toBe('active');
    });

    it('refuses customer users with 403, even with AdminAgent in their roles', async () => {
      const customer = await registerCustomer(app);
      const bought = await buyOne(customer, SKU.datacenter1y, 'annual');
      const own = await app.token({ roles: ['GlobalAdmin', 'AdminAgent'], kind: 'customer', tenant: customer.id });
      expectProblem(await patch(customer.id, bought.subscriptionId, { status: 'cancelled' }, own), 403, 'FORBIDDEN');
    });

    // The clock only moves forward in this file, so this block comes last.
    describe('the 7-day window and the prorated refund (clock moves)', () => {
      it('prorates by started days, refunds only what was charged, and closes at exactly 7 days', async () => {
        const customer = await registerCustomer(app);
        const annual = await buyOne(customer, SKU.datacenter1y, 'annual', { quantity: 2 });
        const monthly = await buyOne(customer, SKU.sqlStandard1y, 'monthly', { quantity: 3 });
        const lastMinute = await buyOne(customer, SKU.standard1y, 'annual', { quantity: 5 });
        const tooLate = await buyOne(customer, SKU.standard1y, 'annual');
        const start = annual.purchasedAt;
        expect([monthly.purchasedAt, lastMinute.purchasedAt, tooLate.purchasedAt]).toEqual([start, start, start]);
        const termEnd = addYears(start, 1);
        /** SPEC's refund for cancelling now a line bought at `start`. */
        const refundNow = (termPrice: number, charged = termPrice) =>
          expectedRefund({ termStart: start, termEnd, termPrice, charged, at: app.clock.now() });

        // 3 days and 1 hour in: 4 started days are used.
        app.clock.set(addMs(start, 3 * DAY_MS + 60 * 60 * 1000));
        await app.runScheduler();

        const annualCancel = await patch(customer.id, annual.subscriptionId, { status: 'cancelled' });
        expect(annualCancel.status).toBe(200);
        const annualExpected = refundNow(linePrice(SKU.datacenter1y, 'DE', 2).amount);
        expect(annualExpected.usedDays).toBe(4);
        expect(annualCancel.body.refund).toEqual(refundAnswer(annualExpected, app.clock.now()));

        // Monthly: only the first installment (1/12 of the term price, remainder cents on it) was charged.
        const monthlyPrice = linePrice(SKU.sqlStandard1y, 'DE', 3).amount;
        const monthlyCancel = await patch(customer.id, monthly.subscriptionId, { status: 'cancelled' });
        expect(monthlyCancel.status).toBe(200);
        const monthlyExpected = refundNow(monthlyPrice, installmentsOf(monthlyPrice, 1, 'monthly')[0]!);
        expect(monthlyExpected.refund).toBeGreaterThan(0);
        expect(monthlyCancel.body.refund).toEqual(refundAnswer(monthlyExpected, app.clock.now()));

        // One millisecond before the window ends: still open, 7 used days.
        app.clock.set(addMs(addDays(start, 7), -1));
        const lastMinuteCancel = await patch(customer.id, lastMinute.subscriptionId, { status: 'cancelled' });
        expect(lastMinuteCancel.status).toBe(200);
        const lastMinuteExpected = refundNow(linePrice(SKU.standard1y, 'DE', 5).amount);
        expect(lastMinuteExpected.usedDays).toBe(7);
        expect(lastMinuteCancel.body.refund).toEqual(refundAnswer(lastMinuteExpected, app.clock.now()));

        // Exactly 7 days: closed, with the window's end in the answer.
        app.clock.set(addDays(start, 7));
        await app.runScheduler();
        const path = `/v1/customers/${customer.id}/subscriptions/${tooLate.subscriptionId}`;
        const view = await get(app, path, admin, logPosition(lastMinuteCancel));
        expect(view.body).toMatchObject({
          status: 'active',
          cancellationAllowedUntil: addDays(start, 7),
          cancellationWindowPassed: true,
          cancellable: false,
        });
        const before = await eventCount(app);
        const refused = await patch(customer.id, tooLate.subscriptionId, { status: 'cancelled' });
        expectProblem(refused, 422, 'CANCELLATION_WINDOW_CLOSED');
        expect(refused.body.cancellationAllowedUntil).toBe(addDays(start, 7));
        expect(await eventCount(app)).toBe(before);
      });
    });
  });
});
