import { E2eApp } from '../support/e2e-harness';
import type { RecordedEvent } from '@csp/event-store';
import { addMonths, addMs, installmentsOf } from './support/calendar';
import { expectedRefund, expectProblem, getSubscription, ofType, placeOrder, registerCustomer, SKU, unitPrice, refundAnswer } from './support/e2e-support';

/**
 * Time-driven transitions with a moved clock: renewals, expiries, installments, the cancellation
 * window of renewed terms. Every step also runs the scheduler a second time at the same instant
 * and checks that the log did not grow.
 */
describe('lifecycle scheduler with a moved clock', () => {
  let app: E2eApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  async function start(now: string): Promise<{ app: E2eApp; admin: string; customerId: string }> {
    app = await E2eApp.start({ now });
    const admin = await app.token({ roles: ['AdminAgent'] });
    const customerId = (await registerCustomer(app, { token: admin })).id;
    return { app, admin, customerId };
  }

  /** Moves the clock, runs the scheduler to completion, then runs it again and checks nothing new was appended. */
  async function moveTo(running: E2eApp, instant: string): Promise<RecordedEvent[]> {
    const before = (await running.events()).length;
    running.clock.set(instant);
    await running.runScheduler();
    const after = await running.events();
    await Promise.all([running.runScheduler(), running.runScheduler()]);
    expect(await running.events()).toHaveLength(after.length);
    return after.slice(before);
  }

  it('renews an annual P1Y subscription at its term end: new term dates, still active, a second InstallmentBilled for term 2', async () => {
    const purchasedAt = '2026-04-15T09:30:00.000Z';
    const { app, admin, customerId } = await start(purchasedAt);
    const { subscriptionIds, position: purchased } = await placeOrder(app, customerId, [{ skuId: SKU.datacenter1y, quantity: 3, billingCycle: 'annual' }]);
    const id = subscriptionIds[0]!;
    const termEnd = '2027-04-15T09:30:00.000Z';
    const termPrice = unitPrice(SKU.datacenter1y, 'DE').amount * 3;

    const subscription = await getSubscription(app, customerId, id, admin, purchased);
    expect(subscription).toMatchObject({ termStartDate: purchasedAt, termEndDate: termEnd, termNumber: 1, autoRenewEnabled: true });

    // One millisecond before the term end nothing is due.
    expect(await moveTo(app, addMs(termEnd, -1))).toEqual([]);

    const appended = await moveTo(app, termEnd);
    expect(appended.map((event) => event.type)).toEqual(['SubscriptionRenewed', 'InstallmentBilled']);
    const renewed = await getSubscription(app, customerId, id, admin);
    expect(renewed).toMatchObject({
      status: 'active',
      termNumber: 2,
      termStartDate: termEnd,
      termEndDate: '2028-04-15T09:30:00.000Z',
      autoRenewEnabled: true,
      termPrice: { amount: termPrice, currency: 'EUR' },
    });

    const billed = ofType(await app.events(), 'InstallmentBilled', id);
    expect(billed.map((event) => [event.data['termNumber'], event.data['sequence'], event.data['dueAt'], event.data['amount']])).toEqual([
      [1, 1, purchasedAt, { amount: termPrice, currency: 'EUR' }],
      [2, 1, termEnd, { amount: termPrice, currency: 'EUR' }],
    ]);
    expect(billed[1]!.data['invoicePeriod']).toBe('2027-04');

    // Months later, nothing else is due until the next term end.
    expect(await moveTo(app, '2028-04-15T09:29:59.999Z')).toEqual([]);
  });

  it('expires at term end when autorenew is off; the expired subscription stays listed and nothing follows', async () => {
    const purchasedAt = '2026-09-01T00:00:00.000Z';
    const { app, admin, customerId } = await start(purchasedAt);
    const { subscriptionIds } = await placeOrder(app, customerId, [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }]);
    const id = subscriptionIds[0]!;
    await app.http().patch(`/v1/customers/${customerId}/subscriptions/${id}`).set('Authorization', admin).send({ autoRenewEnabled: false }).expect(200);

    expect(await moveTo(app, '2027-08-31T23:59:59.999Z')).toEqual([]);
    const appended = await moveTo(app, '2027-09-01T00:00:00.000Z');
    expect(appended.map((event) => [event.type, event.data['expiredAt']])).toEqual([['SubscriptionExpired', '2027-09-01T00:00:00.000Z']]);

    const expired = await getSubscription(app, customerId, id, admin);
    expect(expired).toMatchObject({ status: 'expired', expirationDate: '2027-09-01T00:00:00.000Z', termNumber: 1, cancellable: false });
    const list = await app.http().get(`/v1/customers/${customerId}/subscriptions`).set('Authorization', admin).expect(200);
    expect(list.body.items.map((item: { id: string; status: string }) => [item.id, item.status])).toEqual([[id, 'expired']]);

    // Years later: no renewal, no installment.
    expect(await moveTo(app, '2030-01-01T00:00:00.000Z')).toEqual([]);
    expect(ofType(await app.events(), 'SubscriptionRenewed', id)).toEqual([]);

    // Autorenew cannot be switched back on for an expired subscription.
    const refused = await app.http().patch(`/v1/customers/${customerId}/subscriptions/${id}`).set('Authorization', admin).send({ autoRenewEnabled: true });
    expectProblem(refused, 422, 'AUTORENEW_NOT_AVAILABLE');
  });

  it('bills monthly installments once each as months pass, from Jan 31 of a leap year: Feb 29, Mar 31, Apr 30, ...', async () => {
    const purchasedAt = '2028-01-31T10:00:00.000Z';
    const { app, admin, customerId } = await start(purchasedAt);
    const { subscriptionIds, position: purchased } = await placeOrder(app, customerId, [{ skuId: SKU.rdsCal, quantity: 7, billingCycle: 'monthly' }]);
    const id = subscriptionIds[0]!;
    const termPrice = unitPrice(SKU.rdsCal, 'DE').amount * 7;
    const amounts = installmentsOf(termPrice, 1, 'monthly');
    expect(amounts.reduce((sum, amount) => sum + amount, 0)).toBe(termPrice);
    const dueDates = Array.from({ length: 12 }, (_, index) => addMonths(purchasedAt, index));
    expect(dueDates.slice(0, 5)).toEqual([
      '2028-01-31T10:00:00.000Z',
      '2028-02-29T10:00:00.000Z',
      '2028-03-31T10:00:00.000Z',
      '2028-04-30T10:00:00.000Z',
      '2028-05-31T10:00:00.000Z',
    ]);

    const view = await getSubscription(app, customerId, id, admin, purchased);
    expect(view.installments.map((installment: { dueDate: string; amount: { amount: number } }) => [installment.dueDate, installment.amount.amount])).toEqual(
      dueDates.map((dueAt, index) => [dueAt, amounts[index]]),
    );

    // Month by month: nothing a millisecond early, exactly one installment on its due instant.
    for (let sequence = 2; sequence <= 5; sequence++) {
      const dueAt = dueDates[sequence - 1]!;
      expect(await moveTo(app, addMs(dueAt, -1))).toEqual([]);
      const appended = await moveTo(app, dueAt);
      expect(appended.map((event) => [event.type, event.data['termNumber'], event.data['sequence'], event.data['dueAt'], event.data['amount']])).toEqual([
        ['InstallmentBilled', 1, sequence, dueAt, { amount: amounts[sequence - 1], currency: 'EUR' }],
      ]);
    }

    // A jump over many months bills every skipped installment once, renews on 2029-01-31, and bills term 2's first two.
    const appended = await moveTo(app, '2029-02-28T10:00:00.000Z');
    const summary = appended.map((event) =>
      event.type === 'InstallmentBilled' ? `${event.data['termNumber']}.${event.data['sequence']}@${event.data['dueAt']}` : `${event.type}@${event.data['renewedAt']}`,
    );
    expect(summary).toEqual([
      ...dueDates.slice(5).map((dueAt, index) => `1.${index + 6}@${dueAt}`),
      'SubscriptionRenewed@2029-01-31T10:00:00.000Z',
      '2.1@2029-01-31T10:00:00.000Z',
      '2.2@2029-02-28T10:00:00.000Z',
    ]);
    expect(dueDates.slice(5).map((dueAt) => dueAt.slice(5, 10))).toEqual(['06-30', '07-31', '08-31', '09-30', '10-31', '11-30', '12-31']);

    const all = ofType(await app.events(), 'InstallmentBilled', id);
    const keys = all.map((event) => `${event.data['termNumber']}.${event.data['sequence']}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(14);
    const term2 = await getSubscription(app, customerId, id, admin);
    expect(term2).toMatchObject({ termNumber: 2, termStartDate: '2029-01-31T10:00:00.000Z', termEndDate: '2030-01-31T10:00:00.000Z' });
    expect(term2.installments[0].amount.amount).toBe(amounts[0]);
    expect(term2.installments.map((installment: { status: string }) => installment.status)).toEqual([
      'billed',
      'billed',
      ...Array(10).fill('scheduled'),
    ]);
  });

  it('a renewed term can be cancelled in its first 7 days, refunded on the new term, and not at exactly 7 days', async () => {
    // Term 1 spans Feb 29 2028 (366 days), term 2 does not (365): a refund on the wrong term would differ.
    const purchasedAt = '2027-03-10T12:00:00.000Z';
    const { app, admin, customerId } = await start(purchasedAt);
    const { subscriptionIds } = await placeOrder(app, customerId, [
      { skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' },
      { skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' },
    ]);
    const [early, late] = subscriptionIds as [string, string];
    const cancel = (id: string) =>
      app.http().patch(`/v1/customers/${customerId}/subscriptions/${id}`).set('Authorization', admin).send({ status: 'cancelled' });

    // Term 1's window closes after 7 days.
    await moveTo(app, '2027-03-17T12:00:00.000Z');
    const closed = await cancel(early);
    expectProblem(closed, 422, 'CANCELLATION_WINDOW_CLOSED');
    expect(closed.body.cancellationAllowedUntil).toBe('2027-03-17T12:00:00.000Z');

    const termStart = '2028-03-10T12:00:00.000Z';
    await moveTo(app, termStart);
    const renewed = await getSubscription(app, customerId, early, admin);
    expect(renewed).toMatchObject({
      termNumber: 2,
      termStartDate: termStart,
      cancellable: true,
      cancellationWindowPassed: false,
      cancellationAllowedUntil: '2028-03-17T12:00:00.000Z',
    });

    const at = '2028-03-13T15:00:00.000Z';
    await moveTo(app, at);
    const termPrice = unitPrice(SKU.datacenter1y, 'DE').amount * 2;
    const expected = expectedRefund({ termStart, termEnd: '2029-03-10T12:00:00.000Z', termPrice, charged: termPrice, at });
    expect(expected).toMatchObject({ usedDays: 4, termDays: 365 });
    const cancelled = await cancel(early).expect(200);
    expect(cancelled.body.refund).toEqual(refundAnswer(expected, at));
    expect(cancelled.body.status).toBe('cancelled');
    const event = ofType(await app.events(), 'SubscriptionCancelled', early);
    expect(event).toHaveLength(1);
    expect(event[0]!.data).toMatchObject({ termNumber: 2, usedDays: 4, termDays: 365, usedCost: { amount: expected.usedCost, currency: 'EUR' } });
    expect(event[0]!.data['invoicePeriod']).toBe('2028-04');

    // The other renewed subscription: still cancellable a millisecond before 7 days, not at exactly 7 days.
    await moveTo(app, '2028-03-17T11:59:59.999Z');
    expect((await getSubscription(app, customerId, late, admin)).cancellable).toBe(true);
    await moveTo(app, '2028-03-17T12:00:00.000Z');
    expect(await getSubscription(app, customerId, late, admin)).toMatchObject({ cancellable: false, cancellationWindowPassed: true });
    const before = (await app.events()).length;
    const refused = await cancel(late);
    expectProblem(refused, 422, 'CANCELLATION_WINDOW_CLOSED');
    expect(refused.body.cancellationAllowedUntil).toBe('2028-03-17T12:00:00.000Z');
    expect(await app.events()).toHaveLength(before);

    // The cancelled subscription never renews again.
    expect(ofType(await moveTo(app, '2029-03-10T12:00:00.000Z'), 'SubscriptionRenewed', early)).toEqual([]);
  });

  it('a term bought on Feb 29 ends on Feb 28 of the next year and renews from there', async () => {
    const purchasedAt = '2028-02-29T12:00:00.000Z';
    const { app, admin, customerId } = await start(purchasedAt);
    const { subscriptionIds, position: purchased } = await placeOrder(app, customerId, [
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      { skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' },
    ]);
    const [renewing, cancelling] = subscriptionIds as [string, string];
    expect(await getSubscription(app, customerId, renewing, admin, purchased)).toMatchObject({
      termStartDate: purchasedAt,
      termEndDate: '2029-02-28T12:00:00.000Z',
    });

    // Proration over the 365-day leap-day term: a day and a bit counts as 2 days.
    const at = '2028-03-01T13:00:00.000Z';
    await moveTo(app, at);
    const price = unitPrice(SKU.standard1y, 'DE').amount;
    const expected = expectedRefund({ termStart: purchasedAt, termEnd: '2029-02-28T12:00:00.000Z', termPrice: price, charged: price, at });
    expect(expected).toMatchObject({ usedDays: 2, termDays: 365 });
    const cancelled = await app
      .http()
      .patch(`/v1/customers/${customerId}/subscriptions/${cancelling}`)
      .set('Authorization', admin)
      .send({ status: 'cancelled' })
      .expect(200);
    expect(cancelled.body.refund.amount).toBe(expected.refund);

    expect(await moveTo(app, '2029-02-28T11:59:59.999Z')).toEqual([]);
    const appended = await moveTo(app, '2029-02-28T12:00:00.000Z');
    expect(appended.map((event) => [event.type, event.data['subscriptionId']])).toEqual([
      ['SubscriptionRenewed', renewing],
      ['InstallmentBilled', renewing],
    ]);
    expect(await getSubscription(app, customerId, renewing, admin)).toMatchObject({
      status: 'active',
      termNumber: 2,
      termStartDate: '2029-02-28T12:00:00.000Z',
      termEndDate: '2030-02-28T12:00:00.000Z',
    });
  });
});
