import { deciderSpecification } from '@csp/testing/decider-specification';
import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { oneVoidPerEvent } from '@csp/testing/fixtures/recorded-before.fixture';
import { Catalogue } from '../catalogue/catalogue';
import type { BillingCycle } from '../catalogue/sku';
import { createOrderDecider } from '../order/order.decider';
import type { OrderPlaced } from '../order/order.events';
import { fold as foldEvents } from '../shared/decider';
import { money } from '../shared/money';
import { cancellationStatus, subscriptionDecider, type ExistingSubscriptionState } from './subscription.decider';
import type { SubscriptionEvent, SubscriptionStarted } from './subscription.events';

const spec = deciderSpecification(subscriptionDecider);
const orderDecider = createOrderDecider(new Catalogue(fixtureSkus));

function orderOf(skuId: string, billingCycle: BillingCycle, purchasedAt: string, quantity = 1): OrderPlaced['data'] {
  const [event] = orderDecider.decide(
    {
      type: 'PurchaseSoftware',
      orderId: 'order-1',
      partnerId: 'partner-1',
      customer: { status: 'registered', customerId: 'cust-1', partnerId: 'partner-1', companyName: 'C', domain: 'c.example', country: 'DE' },
      lineItems: [{ skuId, quantity, billingCycle }],
      subscriptionIds: ['sub-1'],
      purchasedAt,
      backfilled: false,
    },
    orderDecider.initialState(),
  );
  return (event as OrderPlaced).data;
}

function startedHistory(skuId: string, billingCycle: BillingCycle, purchasedAt: string): SubscriptionEvent[] {
  return subscriptionDecider.decide(
    { type: 'StartSubscription', order: orderOf(skuId, billingCycle, purchasedAt), lineItemNumber: 1 },
    subscriptionDecider.initialState(),
  );
}

const fold = (events: SubscriptionEvent[]) => foldEvents(subscriptionDecider, events) as ExistingSubscriptionState;

const purchasedAt = '2026-01-01T00:00:00.000Z';
const annualDatacenter = () => startedHistory('WS2022DC-P1Y', 'annual', purchasedAt);

describe('StartSubscription', () => {
  it('starts the first term at the purchase instant with autorenew on and bills the first installment', () => {
    const [started, billed] = annualDatacenter() as [SubscriptionStarted, SubscriptionEvent];
    expect(started.data).toMatchObject({
      subscriptionId: 'sub-1',
      legacy: false,
      autoRenewEnabled: true,
      term: { number: 1, start: purchasedAt, end: '2027-01-01T00:00:00.000Z', price: money(365_000, 'EUR') },
    });
    expect(billed).toEqual({
      type: 'InstallmentBilled',
      data: expect.objectContaining({ sequence: 1, termNumber: 1, amount: money(365_000, 'EUR'), invoicePeriod: '2026-01' }),
    });
  });

  it('a purchase at exactly 2021-10-14T00:00Z autorenews', () => {
    const [started] = startedHistory('WS2022DC-P1Y', 'annual', '2021-10-14T00:00:00.000Z') as [SubscriptionStarted];
    expect(started.data).toMatchObject({ legacy: false, autoRenewEnabled: true });
  });

  it('a purchase one second before the cutoff is legacy: no autorenew', () => {
    const [started] = startedHistory('WS2022DC-P1Y', 'annual', '2021-10-13T23:59:59.000Z') as [SubscriptionStarted];
    expect(started.data).toMatchObject({ legacy: true, autoRenewEnabled: false });
  });

  it('is a no-op when the subscription already exists (fulfilment retried)', () => {
    spec
      .given(annualDatacenter())
      .when({ type: 'StartSubscription', order: orderOf('WS2022DC-P1Y', 'annual', purchasedAt), lineItemNumber: 1 })
      .then([]);
  });
});

describe('ToggleAutorenew', () => {
  it('switches autorenew off', () => {
    spec
      .given(annualDatacenter())
      .when({ type: 'ToggleAutorenew', autoRenewEnabled: false, at: '2026-02-01T00:00:00.000Z' })
      .then([
        {
          type: 'AutoRenewChanged',
          data: { subscriptionId: 'sub-1', customerId: 'cust-1', autoRenewEnabled: false, changedAt: '2026-02-01T00:00:00.000Z' },
        },
      ]);
  });
  it('setting the current value appends nothing', () => {
    spec.given(annualDatacenter()).when({ type: 'ToggleAutorenew', autoRenewEnabled: true, at: purchasedAt }).then([]);
  });
  it('cannot be switched on for a legacy subscription', () => {
    spec
      .given(startedHistory('WS2022DC-P1Y', 'annual', '2021-10-13T23:59:59.000Z'))
      .when({ type: 'ToggleAutorenew', autoRenewEnabled: true, at: '2021-10-20T00:00:00.000Z' })
      .thenThrows('AUTORENEW_NOT_AVAILABLE');
  });
  it('is refused on a cancelled subscription', () => {
    const history = [...annualDatacenter(), ...subscriptionDecider.decide({ type: 'CancelSubscription', at: purchasedAt }, fold(annualDatacenter()))];
    spec.given(history).when({ type: 'ToggleAutorenew', autoRenewEnabled: false, at: purchasedAt }).thenThrows('AUTORENEW_NOT_AVAILABLE');
  });
  it('is refused on an unknown subscription', () => {
    spec.given([]).when({ type: 'ToggleAutorenew', autoRenewEnabled: false, at: purchasedAt }).thenThrows('SUBSCRIPTION_NOT_FOUND');
  });
});

describe('CancelSubscription', () => {
  it('refunds what was charged minus the prorated used cost (annual, day 3)', () => {
    const [cancelled, ...rest] = spec
      .given(annualDatacenter())
      .when({ type: 'CancelSubscription', at: '2026-01-03T12:00:00.000Z' })
      .thenEvents();
    // usedDays = ceil(2.5) = 3; usedCost = 365000 × 3 / 365 = 3000; refund = 365000 - 3000
    expect(cancelled).toEqual({
      type: 'SubscriptionCancelled',
      data: expect.objectContaining({
        usedDays: 3,
        termDays: 365,
        usedCost: money(3000, 'EUR'),
        chargedForTerm: money(365_000, 'EUR'),
        refund: money(362_000, 'EUR'),
        invoicePeriod: '2026-02',
        termNumber: 1,
      }),
    });
    expect(rest).toEqual([]);
  });

  it('voids the future installments of a monthly plan and refunds only what was charged beyond use', () => {
    const history = startedHistory('WS2022DC-P1Y', 'monthly', purchasedAt);
    const events = spec.given(history).when({ type: 'CancelSubscription', at: '2026-01-06T00:00:00.000Z' }).thenEvents();
    const [cancelled, voided, ...rest] = events;
    // first installment 365000/12 = 30416 r 8 → 30424; used 5 days = 5000
    expect(cancelled!.data).toMatchObject({ chargedForTerm: money(30_424, 'EUR'), usedCost: money(5000, 'EUR'), refund: money(25_424, 'EUR') });
    // One fact for the whole withdrawn schedule, on the cancellation's invoice.
    expect(voided).toEqual({
      type: 'FutureInstallmentsVoided',
      data: {
        subscriptionId: 'sub-1',
        customerId: 'cust-1',
        orderId: 'order-1',
        termNumber: 1,
        installments: Array.from({ length: 11 }, (_, index) => ({
          sequence: index + 2,
          dueAt: `2026-${String(index + 2).padStart(2, '0')}-01T00:00:00.000Z`,
          amount: money(30_416, 'EUR'),
        })),
        voidedAt: '2026-01-06T00:00:00.000Z',
        invoicePeriod: '2026-02',
      },
    });
    expect(rest).toEqual([]);
  });

  it('folds a cancellation recorded with one InstallmentVoided per installment (logs before the twenty-fourth round) to the same state', () => {
    const history = startedHistory('WS2022DC-P1Y', 'monthly', purchasedAt);
    const cancellation = subscriptionDecider.decide({ type: 'CancelSubscription', at: '2026-01-06T00:00:00.000Z' }, fold(history));
    const before = oneVoidPerEvent(cancellation);
    expect(before.map((event) => event.type)).toEqual(['SubscriptionCancelled', ...Array<string>(11).fill('InstallmentVoided')]);
    expect(fold([...history, ...before])).toEqual(fold([...history, ...cancellation]));
    spec.given([...history, ...before]).when({ type: 'CancelSubscription', at: '2026-01-06T00:00:00.000Z' }).thenThrows('ALREADY_CANCELLED');
  });

  it('is allowed one millisecond before 7 days', () => {
    const events = spec.given(annualDatacenter()).when({ type: 'CancelSubscription', at: '2026-01-07T23:59:59.999Z' }).thenEvents();
    expect(events[0]!.data).toMatchObject({ usedDays: 7, usedCost: money(7000, 'EUR') });
  });

  it('is refused at exactly 7 days, with the window end', () => {
    spec
      .given(annualDatacenter())
      .when({ type: 'CancelSubscription', at: '2026-01-08T00:00:00.000Z' })
      .thenThrows('CANCELLATION_WINDOW_CLOSED', { cancellationAllowedUntil: '2026-01-08T00:00:00.000Z' });
  });

  it('refuses RedHat plans at any time', () => {
    spec.given(startedHistory('RHEL-P1Y', 'annual', purchasedAt)).when({ type: 'CancelSubscription', at: purchasedAt }).thenThrows('NOT_CANCELLABLE');
  });

  it('refuses a second cancellation', () => {
    const history = [...annualDatacenter(), ...subscriptionDecider.decide({ type: 'CancelSubscription', at: purchasedAt }, fold(annualDatacenter()))];
    spec.given(history).when({ type: 'CancelSubscription', at: purchasedAt }).thenThrows('ALREADY_CANCELLED');
  });

  it('reports the window in the view: cancellable until day 7, then passed', () => {
    const state = fold(annualDatacenter());
    expect(cancellationStatus(state, '2026-01-07T23:59:59.999Z')).toEqual({
      cancellationAllowedUntil: '2026-01-08T00:00:00.000Z',
      cancellationWindowPassed: false,
      cancellable: true,
    });
    expect(cancellationStatus(state, '2026-01-08T00:00:00.000Z')).toMatchObject({ cancellationWindowPassed: true, cancellable: false });
    expect(cancellationStatus(fold(startedHistory('RHEL-P1Y', 'annual', purchasedAt)), purchasedAt).cancellable).toBe(false);
  });
});

describe('AdvanceLifecycle', () => {
  it('does nothing before anything is due', () => {
    spec.given(annualDatacenter()).when({ type: 'AdvanceLifecycle', now: '2026-12-31T23:59:59.999Z' }).then([]);
  });

  it('renews at exactly the term end with a new term, schedule and charge at the renewal price', () => {
    const events = spec
      .given(annualDatacenter())
      .when({ type: 'AdvanceLifecycle', now: '2027-01-01T00:00:00.000Z', renewalTermPrice: money(400_000, 'EUR') })
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['SubscriptionRenewed', 'InstallmentBilled']);
    expect(events[0]!.data).toMatchObject({
      renewedAt: '2027-01-01T00:00:00.000Z',
      term: { number: 2, start: '2027-01-01T00:00:00.000Z', end: '2028-01-01T00:00:00.000Z', price: money(400_000, 'EUR') },
    });
    expect(events[1]!.data).toMatchObject({ termNumber: 2, sequence: 1, amount: money(400_000, 'EUR'), invoicePeriod: '2027-01' });
  });

  it('expires at term end when autorenew is off', () => {
    const history = [
      ...annualDatacenter(),
      { type: 'AutoRenewChanged', data: { subscriptionId: 'sub-1', customerId: 'cust-1', autoRenewEnabled: false, changedAt: purchasedAt } },
    ] as SubscriptionEvent[];
    spec
      .given(history)
      .when({ type: 'AdvanceLifecycle', now: '2027-06-01T00:00:00.000Z' })
      .then([{ type: 'SubscriptionExpired', data: { subscriptionId: 'sub-1', customerId: 'cust-1', orderId: 'order-1', expiredAt: '2027-01-01T00:00:00.000Z' } }]);
  });

  it('a legacy subscription expires at its term end', () => {
    const events = spec
      .given(startedHistory('WS2022DC-P1Y', 'annual', '2021-10-13T23:59:59.000Z'))
      .when({ type: 'AdvanceLifecycle', now: '2026-11-30T00:00:00.000Z' })
      .thenEvents();
    expect(events).toEqual([expect.objectContaining({ type: 'SubscriptionExpired', data: expect.objectContaining({ expiredAt: '2022-10-13T23:59:59.000Z' }) })]);
  });

  it('catches up several terms at once: bought 2021-10-14T00:00Z, now in the 2026 term', () => {
    const events = spec
      .given(startedHistory('WS2022DC-P1Y', 'annual', '2021-10-14T00:00:00.000Z'))
      .when({ type: 'AdvanceLifecycle', now: '2026-11-30T00:00:00.000Z' })
      .thenEvents();
    const renewals = events.filter((event) => event.type === 'SubscriptionRenewed');
    expect(renewals.map((event) => (event.data as { term: { start: string } }).term.start)).toEqual([
      '2022-10-14T00:00:00.000Z',
      '2023-10-14T00:00:00.000Z',
      '2024-10-14T00:00:00.000Z',
      '2025-10-14T00:00:00.000Z',
      '2026-10-14T00:00:00.000Z',
    ]);
    expect(events.filter((event) => event.type === 'InstallmentBilled')).toHaveLength(5);
  });

  it('bills monthly installments on clamped month ends across a leap February', () => {
    const events = spec
      .given(startedHistory('WS2022DC-P1Y', 'monthly', '2028-01-31T00:00:00.000Z'))
      .when({ type: 'AdvanceLifecycle', now: '2028-03-31T00:00:00.000Z' })
      .thenEvents();
    expect(events.map((event) => (event.data as { dueAt: string }).dueAt)).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-31T00:00:00.000Z']);
  });

  it('a renewed term opens a new 7-day window; its refund is based on that term', () => {
    const history = annualDatacenter();
    const renewal = subscriptionDecider.decide(
      { type: 'AdvanceLifecycle', now: '2027-01-01T00:00:00.000Z', renewalTermPrice: money(730_000, 'EUR') },
      fold(history),
    );
    const events = spec.given([...history, ...renewal]).when({ type: 'CancelSubscription', at: '2027-01-02T00:00:00.000Z' }).thenEvents();
    // term 2 has 365 days at 730000: used 1 day = 2000
    expect(events[0]!.data).toMatchObject({ termNumber: 2, usedDays: 1, usedCost: money(2000, 'EUR'), refund: money(728_000, 'EUR') });
    spec.given([...history, ...renewal]).when({ type: 'CancelSubscription', at: '2027-01-08T00:00:00.000Z' }).thenThrows('CANCELLATION_WINDOW_CLOSED');
  });

  it('nothing happens to a cancelled subscription', () => {
    const history = [...annualDatacenter(), ...subscriptionDecider.decide({ type: 'CancelSubscription', at: purchasedAt }, fold(annualDatacenter()))];
    spec.given(history).when({ type: 'AdvanceLifecycle', now: '2030-01-01T00:00:00.000Z' }).then([]);
  });
});
