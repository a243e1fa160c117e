import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { oneVoidPerEvent } from '@csp/testing/fixtures/recorded-before.fixture';
import { Catalogue } from '../catalogue/catalogue';
import type { BillingCycle, TermDuration } from '../catalogue/sku';
import { createOrderDecider } from '../order/order.decider';
import type { OrderEvent, OrderPlaced } from '../order/order.events';
import { fold } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { DomainEvent } from '../shared/event';
import { money } from '../shared/money';
import { subscriptionDecider, type SubscriptionCommand } from '../subscription/subscription.decider';
import type { SubscriptionCancelled, SubscriptionEvent } from '../subscription/subscription.events';
import { supportRequestDecider } from '../support-request/support-request.decider';
import type { SupportRequestEvent } from '../support-request/support-request.events';
import { ledgerEntriesOf, type LedgerEntry } from './ledger-entry';

const orderDecider = createOrderDecider(new Catalogue(fixtureSkus));
const customer = { status: 'registered', customerId: 'cust-1', partnerId: 'partner-1', companyName: 'C', domain: 'c.example', country: 'DE' } as const;

/** An order from the fixture catalogue (German prices). */
function catalogueOrder(skuId: string, billingCycle: BillingCycle, purchasedAt: string, quantity = 1): OrderPlaced['data'] {
  const [placed] = orderDecider.decide(
    {
      type: 'PurchaseSoftware',
      orderId: 'order-1',
      partnerId: 'partner-1',
      customer,
      lineItems: [{ skuId, quantity, billingCycle }],
      subscriptionIds: ['sub-1'],
      purchasedAt,
      backfilled: false,
    },
    orderDecider.initialState(),
  );
  return (placed as OrderPlaced).data;
}

/** An order of one subscription line at any whole-term price, for amounts the catalogue does not have. */
function pricedOrder(termPrice: number, billingCycle: BillingCycle, purchasedAt: string, termDuration: TermDuration = 'P1Y'): OrderPlaced['data'] {
  const order = catalogueOrder('WS2022DC-P1Y', 'annual', purchasedAt);
  const line = order.lineItems[0]!;
  return {
    ...order,
    lineItems: [{ ...line, billingCycle, termDuration, unitPrice: money(termPrice, 'EUR'), totalPrice: money(termPrice, 'EUR') }],
  };
}

/** Runs commands through the real subscription decider, each on the history so far; returns the whole history. */
function subscriptionHistory(order: OrderPlaced['data'], ...commands: SubscriptionCommand[]): SubscriptionEvent[] {
  const history = subscriptionDecider.decide({ type: 'StartSubscription', order, lineItemNumber: 1 }, subscriptionDecider.initialState());
  for (const command of commands) history.push(...subscriptionDecider.decide(command, fold(subscriptionDecider, history)));
  return history;
}

/** The ledger of a history, as if it were the whole log: event n has id `evt-n` at position `n.n`. */
function ledgerOf(history: DomainEvent[]): LedgerEntry[] {
  return history.flatMap((event, index) => ledgerEntriesOf(event, { eventId: `evt-${index + 1}`, position: `${index + 1}.${index + 1}` }));
}

const amountsOf = (entries: LedgerEntry[]): number[] => entries.map((entry) => entry.amount.amount);
const ofKind = (entries: LedgerEntry[], kind: LedgerEntry['kind']): LedgerEntry[] => entries.filter((entry) => entry.kind === kind);
const advance = (now: string): SubscriptionCommand => ({ type: 'AdvanceLifecycle', now });
const cancel = (at: string): SubscriptionCommand => ({ type: 'CancelSubscription', at });

describe('ledgerEntriesOf, one entry per kind', () => {
  it('charges a billed installment in the month it falls due', () => {
    const history = subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'annual', '2026-01-01T00:00:00.000Z'));
    expect(ledgerEntriesOf(history[1]!, { eventId: 'evt-2', position: '7.5' })).toEqual([
      {
        id: 'evt-2:0',
        kind: 'charge',
        customerId: 'cust-1',
        orderId: 'order-1',
        subscriptionId: 'sub-1',
        amount: money(365_000, 'EUR'),
        invoicePeriod: '2026-01',
        reason: 'installment 1 of term 1',
        position: '7.5',
        occurredAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('refunds a prorated cancellation negatively on the next invoice', () => {
    // 365 000 charged; 2 days used of 365 cost 2 000.
    const history = subscriptionHistory(
      catalogueOrder('WS2022DC-P1Y', 'annual', '2026-01-01T00:00:00.000Z'),
      cancel('2026-01-02T12:00:00.000Z'),
    );
    expect(ledgerEntriesOf(history[2]!, { eventId: 'evt-3', position: '9.9' })).toEqual([
      {
        id: 'evt-3:0',
        kind: 'refund',
        customerId: 'cust-1',
        orderId: 'order-1',
        subscriptionId: 'sub-1',
        amount: money(-363_000, 'EUR'),
        invoicePeriod: '2026-02',
        reason: 'prorated refund: 2 of 365 days used',
        position: '9.9',
        occurredAt: '2026-01-02T12:00:00.000Z',
      },
    ]);
  });

  it('voids each unbilled installment of the cancelled term on the cancellation’s invoice, naming when it was due', () => {
    const history = subscriptionHistory(
      catalogueOrder('WS2022DC-P1Y', 'monthly', '2026-01-01T00:00:00.000Z'),
      cancel('2026-01-03T00:00:00.000Z'),
    );
    // history: started, billed #1, cancelled, #2..#12 voided in one event
    const entries = ledgerEntriesOf(history[3]!, { eventId: 'evt-4', position: '11.11' });
    expect(entries).toHaveLength(11);
    expect(entries[0]).toEqual({
      id: 'evt-4:0',
      kind: 'void',
      customerId: 'cust-1',
      orderId: 'order-1',
      subscriptionId: 'sub-1',
      amount: money(-30_416, 'EUR'),
      invoicePeriod: '2026-02',
      reason: 'installment 2 of term 1 withdrawn (was due 2026-02-01)',
      position: '11.11',
      occurredAt: '2026-01-03T00:00:00.000Z',
    });
    expect(entries[10]).toMatchObject({ id: 'evt-4:10', invoicePeriod: '2026-02', reason: 'installment 12 of term 1 withdrawn (was due 2026-12-01)' });
    expect(entries.map((entry) => entry.reason.split(' ')[1])).toEqual(['2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
  });

  it('voids the same installments from a log that recorded one InstallmentVoided each, under those events’ ids', () => {
    const history = subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'monthly', '2026-01-01T00:00:00.000Z'), cancel('2026-01-03T00:00:00.000Z'));
    const before = oneVoidPerEvent(history);
    expect(before.map((event) => event.type)).toEqual(['SubscriptionStarted', 'InstallmentBilled', 'SubscriptionCancelled', ...Array<string>(11).fill('InstallmentVoided')]);
    const withoutSource = (entries: LedgerEntry[]) => entries.map(({ id: _id, position: _position, ...entry }) => entry);
    expect(withoutSource(ledgerOf(before))).toEqual(withoutSource(ledgerOf(history)));
    expect(ofKind(ledgerOf(before), 'void').map((entry) => entry.id)).toEqual(Array.from({ length: 11 }, (_, index) => `evt-${index + 4}:0`));
  });

  it('credits a cancelled perpetual line in full, on the order only', () => {
    const order = catalogueOrder('OFFICE-LTSC-2021', 'oneTime', '2026-05-10T08:00:00.000Z', 2);
    const orderHistory: OrderEvent[] = [{ type: 'OrderPlaced', data: order }];
    const [cancelled] = orderDecider.decide({ type: 'CancelPerpetual', at: '2026-05-20T08:00:00.000Z' }, fold(orderDecider, orderHistory));
    expect(ledgerEntriesOf(cancelled!, { eventId: 'evt-2', position: '3.3' })).toEqual([
      {
        id: 'evt-2:0',
        kind: 'credit',
        customerId: 'cust-1',
        orderId: 'order-1',
        amount: money(-90_000, 'EUR'),
        invoicePeriod: '2026-06',
        reason: 'perpetual line 1 cancelled: full credit',
        position: '3.3',
        occurredAt: '2026-05-20T08:00:00.000Z',
      },
    ]);
  });

  it('credits an approved support request with the approved amount, naming the request', () => {
    const submitted = supportRequestDecider.decide(
      {
        type: 'SubmitSupportRequest',
        requestId: 'req-1',
        partnerId: 'partner-1',
        submittedBy: { userId: 'agent-1' },
        problemType: 'CSP purchase/refund on behalf of customers',
        impact: 'minimal',
        title: 'Refund',
        description: { customerId: 'cust-1', subscriptionId: 'sub-1', refundReason: 'Wrong edition', requestedAmount: money(10_000, 'EUR') },
        contact: { name: 'A', email: 'a@partner.example', phone: '+4930123456' },
        attachments: [],
        at: '2026-06-01T00:00:00.000Z',
      },
      supportRequestDecider.initialState(),
    );
    const [approved] = supportRequestDecider.decide(
      { type: 'ApproveSupportRequest', amount: money(2_500, 'EUR'), decidedBy: { userId: 'billing-1' }, at: '2026-06-30T23:59:59.000Z' },
      fold<SupportRequestEvent, ReturnType<typeof supportRequestDecider.initialState>>(supportRequestDecider, submitted),
    );
    expect(ledgerEntriesOf(approved!, { eventId: 'evt-2', position: '12.12' })).toEqual([
      {
        id: 'evt-2:0',
        kind: 'credit',
        customerId: 'cust-1',
        subscriptionId: 'sub-1',
        supportRequestId: 'req-1',
        amount: money(-2_500, 'EUR'),
        invoicePeriod: '2026-07',
        reason: 'support request approved in part',
        position: '12.12',
        occurredAt: '2026-06-30T23:59:59.000Z',
      },
    ]);
  });

  it('says "in full" when the whole requested amount is approved', () => {
    const approved: SupportRequestEvent = {
      type: 'SupportRequestApproved',
      data: {
        requestId: 'req-2',
        customerId: 'cust-1',
        orderId: 'order-1',
        partnerId: 'partner-1',
        requestedAmount: money(500, 'EUR'),
        approvedAmount: money(500, 'EUR'),
        invoicePeriod: '2026-08',
        decidedBy: { userId: 'billing-1' },
        decidedAt: '2026-07-01T00:00:00.000Z',
      },
    };
    const [entry] = ledgerEntriesOf(approved, { eventId: 'evt-9', position: '1.1' });
    expect(entry).toMatchObject({ reason: 'support request approved in full', orderId: 'order-1', amount: money(-500, 'EUR') });
    expect('subscriptionId' in entry!).toBe(false);
  });

  it('yields nothing for events that move no money', () => {
    const history = subscriptionHistory(
      catalogueOrder('WS2022DC-P1Y', 'annual', '2026-01-01T00:00:00.000Z'),
      { type: 'ToggleAutorenew', autoRenewEnabled: false, at: '2026-02-01T00:00:00.000Z' },
      { type: 'ToggleAutorenew', autoRenewEnabled: true, at: '2026-03-01T00:00:00.000Z' },
      advance('2027-01-01T00:00:00.000Z'),
    );
    const silent = history.filter((event) => event.type !== 'InstallmentBilled');
    expect(silent.map((event) => event.type)).toEqual(['SubscriptionStarted', 'AutoRenewChanged', 'AutoRenewChanged', 'SubscriptionRenewed']);
    const others: DomainEvent[] = [
      { type: 'OrderPlaced', data: catalogueOrder('OFFICE-LTSC-2021', 'oneTime', '2026-01-01T00:00:00.000Z') },
      { type: 'SubscriptionExpired', data: { subscriptionId: 'sub-1', customerId: 'cust-1', orderId: 'order-1', expiredAt: '2027-01-01T00:00:00.000Z' } },
      { type: 'SupportRequestRejected', data: { requestId: 'req-1' } },
      { type: 'CustomerRegistered', data: { customerId: 'cust-1' } },
    ];
    for (const event of [...silent, ...others]) expect(ledgerEntriesOf(event, { eventId: 'evt-1', position: '1.1' })).toEqual([]);
  });

  it('writes no refund entry when nothing is refunded', () => {
    const nothingRefunded: SubscriptionCancelled = {
      type: 'SubscriptionCancelled',
      data: {
        subscriptionId: 'sub-1',
        customerId: 'cust-1',
        orderId: 'order-1',
        cancelledAt: '2026-01-02T00:00:00.000Z',
        termNumber: 1,
        usedDays: 1,
        termDays: 365,
        usedCost: money(0, 'EUR'),
        chargedForTerm: money(0, 'EUR'),
        refund: money(0, 'EUR'),
        invoicePeriod: '2026-02',
      },
    };
    expect(ledgerEntriesOf(nothingRefunded, { eventId: 'evt-1', position: '1.1' })).toEqual([]);
  });

  it('gives the same ids and entries when the same event is replayed', () => {
    const history = subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'monthly', '2026-01-01T00:00:00.000Z'), cancel('2026-01-01T00:00:00.000Z'));
    expect(ledgerOf(history)).toEqual(ledgerOf(structuredClone(history)));
    expect(ledgerOf(history).map((entry) => entry.id)).toEqual(['evt-2:0', 'evt-3:0', ...Array.from({ length: 11 }, (_, index) => `evt-4:${index}`)]);
  });
});

describe('ledgerEntriesOf on subscription histories', () => {
  it('splits 1 000.01 a year billed monthly into 12 charges, the 5 remainder cents on the first', () => {
    // 100 001 = 12 × 8 333 + 5.
    const history = subscriptionHistory(pricedOrder(100_001, 'monthly', '2026-01-15T10:00:00.000Z'), advance('2026-12-31T23:59:59.000Z'));
    const charges = ofKind(ledgerOf(history), 'charge');
    expect(amountsOf(charges)).toEqual([8_338, ...Array<number>(11).fill(8_333)]);
    expect(charges.map((entry) => entry.invoicePeriod)).toEqual([
      '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06',
      '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12',
    ]);
    expect(charges.map((entry) => entry.reason)).toEqual(Array.from({ length: 12 }, (_, index) => `installment ${index + 1} of term 1`));
  });

  it('splits a three-year term of 3 000.01 billed annually into 1 000.01 + 1 000.00 + 1 000.00 (300 001 = 3 × 100 000 + 1)', () => {
    const history = subscriptionHistory(pricedOrder(300_001, 'annual', '2026-03-01T00:00:00.000Z', 'P3Y'), advance('2028-03-01T00:00:00.000Z'));
    const charges = ofKind(ledgerOf(history), 'charge');
    expect(amountsOf(charges)).toEqual([100_001, 100_000, 100_000]);
    expect(charges.map((entry) => entry.invoicePeriod)).toEqual(['2026-03', '2027-03', '2028-03']);
  });

  it.each([
    // A 366-day term (2028 is a leap year) at 9.15: 1 day costs 915 / 366 = 2.5, rounded to the even 2.
    ['down to even', '2028-01-01T12:00:00.000Z', 1, 913],
    // 3 days cost 2 745 / 366 = 7.5, rounded to the even 8.
    ['up to even', '2028-01-03T00:00:01.000Z', 3, 907],
  ])('rounds a used cost that lands on .5 half to even (%s)', (_case, at, usedDays, refund) => {
    const history = subscriptionHistory(pricedOrder(915, 'annual', '2028-01-01T00:00:00.000Z'), cancel(at));
    expect(ofKind(ledgerOf(history), 'refund')).toEqual([
      expect.objectContaining({ amount: money(-refund, 'EUR'), invoicePeriod: '2028-02', reason: `prorated refund: ${usedDays} of 366 days used` }),
    ]);
  });

  it('charges an installment due on the last second of the year in December, and its cancellation lands in January', () => {
    const history = subscriptionHistory(pricedOrder(1_200, 'monthly', '2026-12-31T23:59:59.000Z'), cancel('2026-12-31T23:59:59.000Z'));
    const ledger = ledgerOf(history);
    expect(ofKind(ledger, 'charge')).toEqual([
      expect.objectContaining({ amount: money(100, 'EUR'), invoicePeriod: '2026-12', occurredAt: '2026-12-31T23:59:59.000Z' }),
    ]);
    // 1 day of 365 costs 1 200 / 365 = 3.29 → 3; 100 charged.
    expect(ofKind(ledger, 'refund')).toEqual([expect.objectContaining({ amount: money(-97, 'EUR'), invoicePeriod: '2027-01' })]);
    const voids = ofKind(ledger, 'void');
    expect(amountsOf(voids)).toEqual(Array<number>(11).fill(-100));
    expect(new Set(voids.map((entry) => entry.invoicePeriod))).toEqual(new Set(['2027-01']));
    // The schedule keeps the 31st where the month has one: 2027-02-28, 2027-03-31, ...
    expect(voids.map((entry) => entry.reason.slice(-11, -1))).toEqual([
      '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30',
      '2027-07-31', '2027-08-31', '2027-09-30', '2027-10-31', '2027-11-30',
    ]);
  });

  it('a cancellation on the first instant of a month credits the month after it', () => {
    const history = subscriptionHistory(pricedOrder(36_500, 'annual', '2026-12-28T00:00:00.000Z'), cancel('2027-01-01T00:00:00.000Z'));
    // 4 days of 365 cost 400.
    expect(ofKind(ledgerOf(history), 'refund')).toEqual([expect.objectContaining({ amount: money(-36_100, 'EUR'), invoicePeriod: '2027-02' })]);
  });

  it('credits a perpetual line cancelled on 2026-12-31 in 2027-01, and one cancelled a second later in 2027-02', () => {
    const order = catalogueOrder('OFFICE-LTSC-2021', 'oneTime', '2026-12-15T00:00:00.000Z');
    const state = fold(orderDecider, [{ type: 'OrderPlaced', data: order }]);
    const periodWhenCancelledAt = (at: string): string =>
      ledgerEntriesOf(orderDecider.decide({ type: 'CancelPerpetual', at }, state)[0]!, { eventId: 'evt-2', position: '2.2' })[0]!.invoicePeriod;
    expect(periodWhenCancelledAt('2026-12-31T23:59:59.000Z')).toBe('2027-01');
    expect(periodWhenCancelledAt('2027-01-01T00:00:00.000Z')).toBe('2027-02');
  });

  it('charges the installment of a leap day in February', () => {
    // Bought on Jan 31: the second installment falls due on Feb 29, 2028.
    const history = subscriptionHistory(pricedOrder(12_000, 'monthly', '2028-01-31T00:00:00.000Z'), advance('2028-02-29T00:00:00.000Z'));
    expect(ofKind(ledgerOf(history), 'charge')).toEqual([
      expect.objectContaining({ invoicePeriod: '2028-01', occurredAt: '2028-01-31T00:00:00.000Z' }),
      expect.objectContaining({ invoicePeriod: '2028-02', occurredAt: '2028-02-29T00:00:00.000Z', reason: 'installment 2 of term 1' }),
    ]);
  });

  it('refunds a term bought on a leap day over 365 days, in March', () => {
    // 2028-02-29 + 1 year = 2029-02-28: 365 days; 1 day of 3 650.00 costs 10.00.
    const history = subscriptionHistory(pricedOrder(365_000, 'annual', '2028-02-29T10:00:00.000Z'), cancel('2028-02-29T23:00:00.000Z'));
    expect(ofKind(ledgerOf(history), 'refund')).toEqual([
      expect.objectContaining({ amount: money(-364_000, 'EUR'), invoicePeriod: '2028-03', reason: 'prorated refund: 1 of 365 days used' }),
    ]);
  });

  it('never writes -0: a zero installment voids as 0', () => {
    // 0.05 a year monthly: 5 + 11 × 0.
    const history = subscriptionHistory(pricedOrder(5, 'monthly', '2026-01-01T00:00:00.000Z'), cancel('2026-01-01T00:00:00.000Z'));
    const voids = ofKind(ledgerOf(history), 'void');
    expect(voids).toHaveLength(11);
    for (const entry of voids) expect(Object.is(entry.amount.amount, 0)).toBe(true);
  });
});

describe('ledgerEntriesOf at the edges of the 7-day window (Windows Server Datacenter, 3 650.00 a year, bought 2026-03-01)', () => {
  const purchasedAt = '2026-03-01T00:00:00.000Z';
  const firstInstant = purchasedAt;
  const lastSecond = '2026-03-07T23:59:59.000Z';
  const closed = '2026-03-08T00:00:00.000Z';

  describe('billed annually (365 000 charged)', () => {
    it.each([
      // 1 day used (at least one): 1 000; 365 000 − 1 000.
      ['the first instant', firstInstant, 1, 364_000],
      // 6 days 23:59:59 used → 7 days: 7 000.
      ['the last second', lastSecond, 7, 358_000],
    ])('cancelled at %s refunds by hand-computed proration', (_case, at, usedDays, refund) => {
      const ledger = ledgerOf(subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'annual', purchasedAt), cancel(at)));
      expect(ledger.map((entry) => [entry.kind, entry.amount.amount, entry.invoicePeriod])).toEqual([
        ['charge', 365_000, '2026-03'],
        ['refund', -refund, '2026-04'],
      ]);
      expect(ledger[1]!.reason).toBe(`prorated refund: ${usedDays} of 365 days used`);
    });
  });

  describe('billed monthly (30 424 charged: 365 000 = 30 424 + 11 × 30 416)', () => {
    it.each([
      ['the first instant', firstInstant, 29_424],
      ['the last second', lastSecond, 23_424],
    ])('cancelled at %s refunds what was charged less the days used and voids the 11 later installments', (_case, at, refund) => {
      const ledger = ledgerOf(subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'monthly', purchasedAt), cancel(at)));
      expect(amountsOf(ofKind(ledger, 'charge'))).toEqual([30_424]);
      expect(amountsOf(ofKind(ledger, 'refund'))).toEqual([-refund]);
      expect(amountsOf(ofKind(ledger, 'void'))).toEqual(Array<number>(11).fill(-30_416));
      expect(new Set(ledger.filter((entry) => entry.kind !== 'charge').map((entry) => entry.invoicePeriod))).toEqual(new Set(['2026-04']));
    });
  });

  it('a cancellation the instant the window closes is refused and adds nothing to the ledger', () => {
    const history = subscriptionHistory(catalogueOrder('WS2022DC-P1Y', 'monthly', purchasedAt));
    let refusal: unknown;
    try {
      subscriptionDecider.decide(cancel(closed), fold(subscriptionDecider, history));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as DomainError).code).toBe('CANCELLATION_WINDOW_CLOSED');
    expect(ledgerOf(history).map((entry) => entry.kind)).toEqual(['charge']);
  });
});
