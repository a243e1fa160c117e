import { RegisterCustomerCommand } from '@csp/application/customers/register-customer.command';
import { PurchaseSoftwareCommand } from '@csp/application/orders/purchase-software.command';
import { CancelSubscriptionCommand, ToggleAutorenewCommand } from '@csp/application/subscriptions/subscription-commands';
import { GetSubscriptionQuery, ListSubscriptionsQuery } from '@csp/application/subscriptions/subscription.queries';
import { DomainError } from '@csp/domain/shared/domain-error';
import { ApplicationHarness, partnerUser } from '@csp/testing/application-harness';
import { randomUUID } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;
const PURCHASED_AT = '2026-03-01T09:00:00.000Z';
/** One year after the purchase; 2026-03-01 to 2027-03-01 holds no February 29. */
const TERM_END = '2027-03-01T09:00:00.000Z';
const TERM_DAYS = 365;
const PARTNER = 'partner-subscriptions';
const admin = partnerUser(PARTNER, ['AdminAgent']);
const globalAdmin = partnerUser(PARTNER, ['GlobalAdmin']);

/** Fixture catalogue, market DE: one unit for one year; RHEL plans can never be cancelled. */
const DATACENTER = { skuId: 'WS2022DC-P1Y', unitPrice: 365_000, currency: 'EUR' };
const RHEL = { skuId: 'RHEL-P1Y' };

/** SPEC "Cancel a software subscription", written out here so the handler's own proration cannot vouch for itself. */
function expectedRefund(termPrice: number, charged: number, at: string): number {
  const usedDays = Math.max(1, Math.ceil((Date.parse(at) - Date.parse(PURCHASED_AT)) / DAY_MS));
  const usedCost = (termPrice * usedDays) / TERM_DAYS;
  // Cases here divide exactly, so no rounding rule is at stake (the e2e suite covers round half to even).
  if (!Number.isInteger(usedCost)) throw new Error('test setup: pick a case whose used cost divides exactly');
  return Math.max(0, charged - usedCost);
}

describe('subscriptions through the buses, without HTTP', () => {
  let app: ApplicationHarness;
  let customerId: string;

  beforeEach(async () => {
    app = await ApplicationHarness.start({ now: PURCHASED_AT });
    customerId = randomUUID();
    await app.commands.execute(
      new RegisterCustomerCommand(app.context(admin), { id: customerId, companyName: 'Fabrikam AG', domain: 'fabrikam.onmicrosoft.com', country: 'DE' }),
    );
  });

  afterEach(() => app.close());

  async function buy(skuId: string, quantity: number, friendlyName: string): Promise<string> {
    const { body } = await app.commands.execute(
      new PurchaseSoftwareCommand(app.context(admin), customerId, [{ skuId, quantity, billingCycle: 'annual', friendlyName }]),
    );
    await app.settle();
    return body.lineItems[0]!.subscriptionId!;
  }

  const target = (subscriptionRef: string, principal = admin) => ({ context: app.context(principal), customerRef: customerId, subscriptionRef });

  it('lists a new subscription: active, autorenewing, one term from the purchase, cancellable for 7 days', async () => {
    const id = await buy(DATACENTER.skuId, 2, 'dc-main');

    const list = await app.queries.execute(new ListSubscriptionsQuery(admin, customerId));

    expect(list.totalCount).toBe(1);
    expect(list.items[0]).toMatchObject({
      id,
      friendlyName: 'dc-main',
      customerId,
      status: 'active',
      autoRenewEnabled: true,
      quantity: 2,
      termNumber: 1,
      termStartDate: PURCHASED_AT,
      termEndDate: TERM_END,
      termPrice: { amount: 2 * DATACENTER.unitPrice, currency: DATACENTER.currency },
      cancellationAllowedUntil: new Date(Date.parse(PURCHASED_AT) + 7 * DAY_MS).toISOString(),
      cancellable: true,
    });
    await expect(app.queries.execute(new GetSubscriptionQuery(admin, customerId, 'dc-main'))).resolves.toEqual(list.items[0]);
  });

  it('toggles autorenew off by friendly name, and setting it to its current value appends nothing', async () => {
    const id = await buy(DATACENTER.skuId, 1, 'dc-toggle');

    const { body: off } = await app.commands.execute(new ToggleAutorenewCommand(target('dc-toggle', globalAdmin), false));
    expect(off).toMatchObject({ id, autoRenewEnabled: false });
    const streamAfterChange = await app.store.readStream(`subscription-${id}`);

    await app.commands.execute(new ToggleAutorenewCommand(target(id), false));

    expect(await app.store.readStream(`subscription-${id}`)).toHaveLength(streamAfterChange.length);
    await app.settle();
    await expect(app.queries.execute(new GetSubscriptionQuery(admin, customerId, id))).resolves.toMatchObject({ autoRenewEnabled: false });
  });

  it('cancels within the first 7 days with the prorated refund of the charged term price', async () => {
    const id = await buy(DATACENTER.skuId, 1, 'dc-cancel');
    const at = new Date(Date.parse(PURCHASED_AT) + 3 * DAY_MS + 1).toISOString();
    app.moveClockTo(at);

    const { body: cancelled } = await app.commands.execute(new CancelSubscriptionCommand(target(id)));

    // Annual billing charges the whole term at the purchase; 3 days and 1 ms count as 4 used days.
    const refund = expectedRefund(DATACENTER.unitPrice, DATACENTER.unitPrice, at);
    expect(refund).toBe(DATACENTER.unitPrice - 4_000);
    expect(cancelled).toMatchObject({
      id,
      status: 'cancelled',
      cancellationDate: at,
      refund: { amount: refund, currency: DATACENTER.currency },
      keyAvailable: false,
    });
    await app.settle();
    await expect(app.queries.execute(new GetSubscriptionQuery(admin, customerId, id))).resolves.toMatchObject({
      status: 'cancelled',
      refund: { amount: refund, currency: DATACENTER.currency },
    });
  });

  it('refuses a cancellation at exactly 7 days, naming the end of the window', async () => {
    const id = await buy(DATACENTER.skuId, 1, 'dc-late');
    const windowEnd = new Date(Date.parse(PURCHASED_AT) + 7 * DAY_MS).toISOString();
    app.moveClockTo(windowEnd);

    const refused = await app.commands.execute(new CancelSubscriptionCommand(target(id))).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'CANCELLATION_WINDOW_CLOSED', details: { cancellationAllowedUntil: windowEnd } });
  });

  it('never cancels a RedHat plan', async () => {
    const id = await buy(RHEL.skuId, 1, 'rhel');

    await expect(app.commands.execute(new CancelSubscriptionCommand(target(id)))).rejects.toMatchObject({ code: 'NOT_CANCELLABLE' });
  });

  it('lets only an AdminAgent cancel, and no BillingAdmin toggle autorenew', async () => {
    const id = await buy(DATACENTER.skuId, 1, 'dc-roles');
    const before = await app.store.readStream(`subscription-${id}`);

    await expect(app.commands.execute(new CancelSubscriptionCommand(target(id, globalAdmin)))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      category: 'forbidden',
    });
    await expect(
      app.commands.execute(new ToggleAutorenewCommand(target(id, partnerUser(PARTNER, ['BillingAdmin'])), false)),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await app.store.readStream(`subscription-${id}`)).toHaveLength(before.length);
  });
});
