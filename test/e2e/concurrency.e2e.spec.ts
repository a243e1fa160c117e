import { E2eApp } from '../support/e2e-harness';
import { expectedRefund, expectProblem, ofType, placeOrder, registerCustomer, SKU, unitPrice, refundAnswer } from './support/e2e-support';

/**
 * Many requests for the same thing at once: the log must hold the effect once, whoever wins, and
 * every loser must get a clean 409 (or, for idempotent retries, the winner's answer).
 */
describe('concurrency', () => {
  const now = '2026-05-04T10:00:00.000Z';
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start({ now });
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  it('20 concurrent cancellations of one subscription: one 200, nineteen 409, one SubscriptionCancelled, one refund', async () => {
    const customerId = (await registerCustomer(app, { token: admin })).id;
    const order = await placeOrder(app, customerId, [{ skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'annual' }]);
    const subscriptionId = order.subscriptionIds[0]!;
    app.clock.set('2026-05-06T12:00:00.000Z');

    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        app
          .http()
          .patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`)
          .set('Authorization', admin)
          .send({ status: 'cancelled' }),
      ),
    );

    const ok = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status !== 200);
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const response of refused) {
      expectProblem(response, 409);
      expect(['ALREADY_CANCELLED', 'CONCURRENCY_CONFLICT']).toContain(response.body.code);
    }

    // The refund of the one winner, from SPEC's proration formula: the annual term price is charged at purchase.
    const termPrice = unitPrice(SKU.datacenter1y, 'DE').amount * 2;
    const expected = expectedRefund({
      termStart: now,
      termEnd: '2027-05-04T10:00:00.000Z',
      termPrice,
      charged: termPrice,
      at: '2026-05-06T12:00:00.000Z',
    });
    expect(expected.usedDays).toBe(3);
    expect(ok[0]!.body.status).toBe('cancelled');
    expect(ok[0]!.body.refund).toEqual(refundAnswer(expected, '2026-05-06T12:00:00.000Z'));

    const events = await app.events();
    const cancelled = ofType(events, 'SubscriptionCancelled', subscriptionId);
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]!.data['refund']).toEqual({ amount: expected.refund, currency: 'EUR' });
    expect(cancelled[0]!.data['usedDays']).toBe(3);
    // Nothing else was appended to the stream after the winner: no second refund, no voids (annual is fully billed).
    const stream = events.filter((event) => event.streamName === `subscription-${subscriptionId}`);
    expect(stream.map((event) => event.type)).toEqual(['SubscriptionStarted', 'InstallmentBilled', 'SubscriptionCancelled']);
  });

  it('10 concurrent purchases with one Idempotency-Key: ten identical 201s, one OrderPlaced, one SubscriptionStarted per line', async () => {
    const customerId = (await registerCustomer(app, { token: admin })).id;
    const before = (await app.events()).length;
    const body = {
      lineItems: [
        { skuId: SKU.standard1y, quantity: 3, billingCycle: 'monthly' },
        { skuId: SKU.sqlStandard3y, quantity: 1, billingCycle: 'annual' },
        { skuId: SKU.office, quantity: 5, billingCycle: 'oneTime' },
      ],
    };

    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        app
          .http()
          .post(`/v1/customers/${customerId}/orders`)
          .set('Authorization', admin)
          .set('Idempotency-Key', 'concurrent-retry-7f3a')
          .send(body),
      ),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(201));
    const first = responses[0]!.body;
    for (const response of responses) expect(response.body).toEqual(first);
    expect(first.lineItems).toHaveLength(3);
    const subscriptionIds = (first.lineItems as Array<{ subscriptionId?: string }>).flatMap((line) => line.subscriptionId ?? []);
    expect(subscriptionIds).toHaveLength(2);
    expect(first.lineItems[0].price).toEqual({ amount: unitPrice(SKU.standard1y, 'DE').amount * 3, currency: 'EUR' });

    const appended = (await app.events()).slice(before);
    const placed = ofType(appended, 'OrderPlaced');
    expect(placed).toHaveLength(1);
    expect(placed[0]!.data['orderId']).toBe(first.id);
    const started = ofType(appended, 'SubscriptionStarted');
    expect(started.map((event) => event.data['subscriptionId']).sort()).toEqual([...subscriptionIds].sort());
    // One first installment per subscription, nothing more on the order and subscription streams:
    // OrderPlaced + 2 × (Started + first InstallmentBilled).
    expect(ofType(appended, 'InstallmentBilled')).toHaveLength(2);
    const domainEvents = appended.filter((event) => /^(order|subscription)-/.test(event.streamName));
    expect(domainEvents).toHaveLength(5);
    const afterBurst = before + appended.length;

    // A later retry with the key still answers the same, and appends nothing.
    const retry = await app
      .http()
      .post(`/v1/customers/${customerId}/orders`)
      .set('Authorization', admin)
      .set('Idempotency-Key', 'concurrent-retry-7f3a')
      .send(body)
      .expect(201);
    expect(retry.body).toEqual(first);
    expect((await app.events()).length).toBe(afterBurst);
  });

  it('concurrent cancellations of one perpetual order: one credit', async () => {
    const customerId = (await registerCustomer(app, { token: admin })).id;
    const order = await placeOrder(app, customerId, [
      { skuId: SKU.office, quantity: 4, billingCycle: 'oneTime' },
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
    ]);
    const before = (await app.events()).length;

    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        app.http().patch(`/v1/customers/${customerId}/orders/${order.id}`).set('Authorization', admin).send({ status: 'cancelled' }),
      ),
    );

    const ok = responses.filter((response) => response.status === 200);
    expect(ok).toHaveLength(1);
    for (const response of responses.filter((candidate) => candidate.status !== 200)) {
      expectProblem(response, 409);
      expect(['ALREADY_CANCELLED', 'CONCURRENCY_CONFLICT']).toContain(response.body.code);
    }
    // 100 % of both lines, on the invoice after the month of cancellation (May 2026 → 2026-06).
    const credit = unitPrice(SKU.office, 'DE').amount * 5;
    expect(ok[0]!.body.credit).toEqual({ amount: credit, currency: 'EUR', invoicePeriod: '2026-06' });
    expect(ok[0]!.body.status).toBe('cancelled');

    const appended = (await app.events()).slice(before);
    expect(appended.every((event) => event.type === 'PerpetualLineCancelled')).toBe(true);
    expect(appended.map((event) => event.data['lineItemNumber']).sort()).toEqual([1, 2]);
    const credited = appended.reduce((sum, event) => sum + (event.data['credit'] as { amount: number }).amount, 0);
    expect(credited).toBe(credit);
  });
});
