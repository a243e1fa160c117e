import { RegisterCustomerCommand } from '@csp/application/customers/register-customer.command';
import { PurchaseSoftwareCommand } from '@csp/application/orders/purchase-software.command';
import { ToggleAutorenewCommand } from '@csp/application/subscriptions/subscription-commands';
import { GetSubscriptionQuery, ListSubscriptionsQuery } from '@csp/application/subscriptions/subscription.queries';
import { ApplicationHarness, partnerUser } from '@csp/testing/application-harness';
import { randomUUID } from 'node:crypto';

const PURCHASED_AT = '2026-03-01T09:00:00.000Z';
/** Term ends one calendar year after the start, same time of day. */
const TERM_1_END = '2027-03-01T09:00:00.000Z';
const TERM_2_END = '2028-03-01T09:00:00.000Z';
const PARTNER = 'partner-lifecycle';
const admin = partnerUser(PARTNER, ['AdminAgent']);
/** Fixture catalogue, market DE: one unit for one year. */
const DATACENTER = { skuId: 'WS2022DC-P1Y', unitPrice: 365_000, currency: 'EUR' };

const justBefore = (instant: string) => new Date(Date.parse(instant) - 1).toISOString();

describe('lifecycle scheduler after the clock moves, without HTTP', () => {
  let app: ApplicationHarness;
  let customerId: string;
  let subscriptionId: string;

  beforeEach(async () => {
    app = await ApplicationHarness.start({ now: PURCHASED_AT });
    customerId = randomUUID();
    await app.commands.execute(
      new RegisterCustomerCommand(app.context(admin), { id: customerId, companyName: 'Tailspin Ltd', domain: 'tailspin.onmicrosoft.com', country: 'DE' }),
    );
    const { body } = await app.commands.execute(
      new PurchaseSoftwareCommand(app.context(admin), customerId, [{ skuId: DATACENTER.skuId, quantity: 1, billingCycle: 'annual' }]),
    );
    subscriptionId = body.lineItems[0]!.subscriptionId!;
    await app.settle();
  });

  afterEach(() => app.close());

  const streamEvents = () => app.store.readStream(`subscription-${subscriptionId}`);
  const view = () => app.queries.execute(new GetSubscriptionQuery(admin, customerId, subscriptionId));

  it('renews an autorenewing subscription at its term end, not a millisecond before, and bills the new term once', async () => {
    const atPurchase = await streamEvents();

    app.moveClockTo(justBefore(TERM_1_END));
    await app.runScheduler();
    expect(await streamEvents()).toHaveLength(atPurchase.length);

    app.moveClockTo(TERM_1_END);
    const run = await app.runScheduler();
    const appended = (await streamEvents()).slice(atPurchase.length);

    expect(run.subscriptionsAdvanced).toBe(1);
    expect(appended.map((event) => event.type)).toEqual(['SubscriptionRenewed', 'InstallmentBilled']);
    expect(appended[1]!.data).toMatchObject({ termNumber: 2, sequence: 1, amount: { amount: DATACENTER.unitPrice, currency: DATACENTER.currency } });
    await expect(view()).resolves.toMatchObject({
      status: 'active',
      termNumber: 2,
      termStartDate: TERM_1_END,
      termEndDate: TERM_2_END,
      cancellable: true,
    });

    await app.runScheduler();
    expect(await streamEvents()).toHaveLength(atPurchase.length + appended.length);
  });

  it('expires a subscription whose autorenew is off at its term end; it stays listed as expired and nothing follows', async () => {
    await app.commands.execute(
      new ToggleAutorenewCommand({ context: app.context(admin), customerRef: customerId, subscriptionRef: subscriptionId }, false),
    );
    const beforeEnd = await streamEvents();

    app.moveClockTo(TERM_1_END);
    await app.runScheduler();
    const appended = (await streamEvents()).slice(beforeEnd.length);

    expect(appended.map((event) => [event.type, event.data['expiredAt']])).toEqual([['SubscriptionExpired', TERM_1_END]]);
    await expect(view()).resolves.toMatchObject({ status: 'expired', expirationDate: TERM_1_END, termNumber: 1, cancellable: false });
    const list = await app.queries.execute(new ListSubscriptionsQuery(admin, customerId));
    expect(list.items.map((item) => [item.id, item.status])).toEqual([[subscriptionId, 'expired']]);

    app.moveClockTo(TERM_2_END);
    await app.runScheduler();
    expect(await streamEvents()).toHaveLength(beforeEnd.length + 1);
  });

  it('catches up several missed term ends in one pass, one renewal per term', async () => {
    const atPurchase = await streamEvents();
    const threeYearsOn = '2029-03-01T09:00:00.000Z';

    app.moveClockTo(threeYearsOn);
    await app.runScheduler();
    const renewals = (await streamEvents()).slice(atPurchase.length).filter((event) => event.type === 'SubscriptionRenewed');

    expect(renewals).toHaveLength(3);
    await expect(view()).resolves.toMatchObject({ termNumber: 4, termStartDate: threeYearsOn, status: 'active' });
  });
});
