import { RegisterCustomerCommand } from '@csp/application/customers/register-customer.command';
import { CancelPerpetualCommand } from '@csp/application/orders/cancel-perpetual.command';
import { GetOrderQuery, ListOrdersQuery } from '@csp/application/orders/order.queries';
import { PurchaseSoftwareCommand } from '@csp/application/orders/purchase-software.command';
import { DomainError } from '@csp/domain/shared/domain-error';
import { ApplicationHarness, partnerUser } from '@csp/testing/application-harness';
import { randomUUID } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;
const PURCHASED_AT = '2026-03-01T09:00:00.000Z';
const PARTNER = 'partner-orders';
const admin = partnerUser(PARTNER, ['AdminAgent']);

/** Fixture catalogue prices (libs/testing/src/fixtures/catalogue.fixture.ts), market DE. */
const OFFICE = { skuId: 'OFFICE-LTSC-2021', unitPrice: 45_000, currency: 'EUR' };
const DATACENTER = { skuId: 'WS2022DC-P1Y', unitPrice: 365_000, currency: 'EUR' };

describe('orders through the buses, without HTTP', () => {
  let app: ApplicationHarness;
  let customerId: string;

  beforeEach(async () => {
    app = await ApplicationHarness.start({ now: PURCHASED_AT });
    customerId = randomUUID();
    await app.commands.execute(
      new RegisterCustomerCommand(app.context(admin), { id: customerId, companyName: 'Contoso GmbH', domain: 'contoso.onmicrosoft.com', country: 'DE' }),
    );
  });

  afterEach(() => app.close());

  const purchase = (lineItems: PurchaseSoftwareCommand['lineItems'], principal = admin) =>
    app.commands.execute(new PurchaseSoftwareCommand(app.context(principal), customerId, lineItems));

  it('places an order with a perpetual and a subscription line, priced from the catalogue, and lists it once projected', async () => {
    const { body: order, position } = await purchase([
      { skuId: OFFICE.skuId, quantity: 3, billingCycle: 'oneTime' },
      { skuId: DATACENTER.skuId, quantity: 2, billingCycle: 'annual', friendlyName: 'dc-main' },
    ]);

    expect(position).toMatch(/^\d+\.\d+$/);
    expect(order).toMatchObject({ customerId, status: 'completed', creationDate: PURCHASED_AT, backfilled: false });
    expect(order.lineItems.map((line) => [line.skuId, line.quantity, line.price, line.status])).toEqual([
      [OFFICE.skuId, 3, { amount: 3 * OFFICE.unitPrice, currency: OFFICE.currency }, 'active'],
      [DATACENTER.skuId, 2, { amount: 2 * DATACENTER.unitPrice, currency: DATACENTER.currency }, 'provisioned'],
    ]);
    expect(order.lineItems[0]!.subscriptionId).toBeUndefined();
    expect(order.lineItems[1]!.subscriptionId).toEqual(expect.any(String));

    await app.settle();
    const list = await app.queries.execute(new ListOrdersQuery(admin, customerId));
    expect(list.totalCount).toBe(1);
    expect(list.items).toEqual([order]);
    await expect(app.queries.execute(new GetOrderQuery(admin, customerId, order.id))).resolves.toEqual(order);
  });

  it('pages the orders list in purchase order with a continuation token', async () => {
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      placed.push((await purchase([{ skuId: OFFICE.skuId, quantity: 1, billingCycle: 'oneTime' }])).body.id);
      app.moveClockTo(new Date(Date.parse(PURCHASED_AT) + (i + 1) * 60_000).toISOString());
    }
    await app.settle();

    const first = await app.queries.execute(new ListOrdersQuery(admin, customerId, { pageSize: 2 }));
    const second = await app.queries.execute(
      new ListOrdersQuery(admin, customerId, { pageSize: 2, continuationToken: first.continuationToken! }),
    );

    expect(first.totalCount).toBe(3);
    expect([...first.items, ...second.items].map((order) => order.id)).toEqual(placed);
    expect(second.continuationToken).toBeUndefined();
  });

  it('cancels a perpetual line within 30 days for a full credit on the next month invoice, and refuses a second cancellation', async () => {
    const { body: order } = await purchase([{ skuId: OFFICE.skuId, quantity: 2, billingCycle: 'oneTime' }]);
    const cancelledAt = '2026-03-20T15:00:00.000Z';
    app.moveClockTo(cancelledAt);

    const { body: cancelled } = await app.commands.execute(new CancelPerpetualCommand(app.context(admin), customerId, order.id));

    expect(cancelled.credit).toEqual({ amount: 2 * OFFICE.unitPrice, currency: OFFICE.currency, invoicePeriod: '2026-04' });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.lineItems[0]).toMatchObject({ status: 'cancelled', keyAvailable: false, cancellable: false });

    const again = await app.commands
      .execute(new CancelPerpetualCommand(app.context(admin), customerId, order.id))
      .catch((error: unknown) => error);
    expect(again).toBeInstanceOf(DomainError);
    expect(again).toMatchObject({ code: 'ALREADY_CANCELLED', category: 'conflict' });
    expect((await app.events('order-')).filter((event) => event.type === 'PerpetualLineCancelled')).toHaveLength(1);
  });

  it('refuses a perpetual cancellation at exactly 30 days after the purchase', async () => {
    const { body: order } = await purchase([{ skuId: OFFICE.skuId, quantity: 1, billingCycle: 'oneTime' }]);
    app.moveClockTo(new Date(Date.parse(PURCHASED_AT) + 30 * DAY_MS).toISOString());

    await expect(app.commands.execute(new CancelPerpetualCommand(app.context(admin), customerId, order.id))).rejects.toMatchObject({
      code: 'CANCELLATION_WINDOW_CLOSED',
      category: 'unprocessable',
    });
  });

  it('answers a retried purchase through the pipeline with the first order and appends nothing more', async () => {
    const lineItems = [{ skuId: DATACENTER.skuId, quantity: 1, billingCycle: 'annual' as const }];
    const idempotency = { key: 'retry-1', requestHash: 'hash-of-the-first-request' };
    const send = (requestHash = idempotency.requestHash) => {
      // One context for the pipeline's key guard and for the handler, as a transport builds it once per request.
      const context = app.context(admin, { ...idempotency, requestHash });
      return app.pipeline.execute('PurchaseSoftware', context, new PurchaseSoftwareCommand(context, customerId, lineItems));
    };
    const first = await send();
    const logAfterFirst = await app.events();

    const retried = await send();

    expect(retried).toEqual(first);
    expect(await app.events()).toHaveLength(logAfterFirst.length);
    await expect(send('hash-of-another-request')).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it.each([
    ['a BillingAdmin', partnerUser(PARTNER, ['BillingAdmin'])],
    ['an Importer buying without a backfill date', partnerUser(PARTNER, ['Importer'])],
  ])('refuses a purchase by %s with FORBIDDEN and appends nothing', async (_who, principal) => {
    const before = await app.events();

    const refused = await purchase([{ skuId: OFFICE.skuId, quantity: 1, billingCycle: 'oneTime' }], principal).catch(
      (error: unknown) => error,
    );

    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'FORBIDDEN', category: 'forbidden' });
    expect(await app.events()).toHaveLength(before.length);
  });

  it('lets only an AdminAgent cancel perpetual software', async () => {
    const { body: order } = await purchase([{ skuId: OFFICE.skuId, quantity: 1, billingCycle: 'oneTime' }]);
    const globalAdmin = partnerUser(PARTNER, ['GlobalAdmin']);

    await expect(
      app.commands.execute(new CancelPerpetualCommand(app.context(globalAdmin), customerId, order.id)),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
