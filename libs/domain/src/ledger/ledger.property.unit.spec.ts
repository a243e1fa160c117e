import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import fc from 'fast-check';
import { Catalogue } from '../catalogue/catalogue';
import type { BillingCycle, Sku } from '../catalogue/sku';
import { createOrderDecider, type OrderState } from '../order/order.decider';
import type { OrderPlaced } from '../order/order.events';
import { DomainError } from '../shared/domain-error';
import type { DomainEvent } from '../shared/event';
import { money, type Money } from '../shared/money';
import { addMonths } from '../shared/time';
import {
  nextLifecycleDueAt,
  subscriptionDecider,
  type ExistingSubscriptionState,
  type SubscriptionCommand,
  type SubscriptionState,
} from '../subscription/subscription.decider';
import type { SubscriptionEvent, Term } from '../subscription/subscription.events';
import { supportRequestDecider, type SupportRequestState } from '../support-request/support-request.decider';
import type { SupportRequestEvent } from '../support-request/support-request.events';
import { ledgerChecksum } from './ledger-checksum';
import { ledgerEntriesOf, type LedgerEntry } from './ledger-entry';
import { ledgerTotals } from './ledger-totals';

/*
 * Random purchases, run over simulated years the way the service runs them (the scheduler wakes at
 * each subscription's next due instant; a command first brings its subscription up to its own
 * instant), with cancellations and support-request decisions at random instants. The ledger is then
 * derived from the log and compared with sums computed here from the folded subscription states and
 * from the test's own inputs, never from the ledger code.
 */

const DAY = 24 * 60 * 60 * 1000;
const catalogue = new Catalogue(fixtureSkus);
const orderDecider = createOrderDecider(catalogue);
const HORIZON = '2031-06-01T00:00:00.000Z';
const FIRST_PURCHASE = Date.parse('2021-09-01T00:00:00.000Z');
const LAST_PURCHASE = Date.parse('2026-12-31T23:59:59.000Z');
const customers = {
  DE: { status: 'registered', customerId: 'cust-de', partnerId: 'partner-1', companyName: 'Contoso DE', domain: 'de.example', country: 'DE' },
  AU: { status: 'registered', customerId: 'cust-au', partnerId: 'partner-1', companyName: 'Contoso AU', domain: 'au.example', country: 'AU' },
} as const;
type Market = keyof typeof customers;

type Decision =
  | { kind: 'approve-all' }
  | { kind: 'approve-part'; share: number }
  | { kind: 'approve-above' }
  | { kind: 'approve-other-currency' }
  | { kind: 'reject' };

interface PurchasePlan {
  market: Market;
  sku: Sku;
  billingCycle: BillingCycle;
  quantity: number;
  purchasedAtMs: number;
  /** Near a term's start (inside or just outside its 7-day window), or anywhere in four years. */
  cancellation: { termIndex: number; offsetSeconds: number } | { anyOffsetSeconds: number } | null;
  autoRenewOffAfterSeconds: number | null;
  supportRequest: { requested: number; decision: Decision; decidedAfterDays: number } | null;
}

const seconds = (days: number): number => days * 24 * 60 * 60;

const purchasePlan: fc.Arbitrary<PurchasePlan> = fc
  .constantFrom<Market>('DE', 'DE', 'AU')
  .chain((market) =>
    fc.constantFrom(...fixtureSkus.filter((sku) => sku.prices[market])).chain((sku) =>
      fc.record({
        market: fc.constant(market),
        sku: fc.constant(sku),
        billingCycle: fc.constantFrom(...sku.billingCycles),
        quantity: fc.integer({ min: 1, max: 5 }),
        purchasedAtMs: fc.integer({ min: FIRST_PURCHASE / 1000, max: LAST_PURCHASE / 1000 }).map((s) => s * 1000),
        cancellation: fc.option(
          fc.oneof(
            fc.record({ termIndex: fc.nat(3), offsetSeconds: fc.integer({ min: -seconds(1), max: seconds(9) }) }),
            fc.record({ anyOffsetSeconds: fc.integer({ min: 0, max: seconds(4 * 365) }) }),
          ),
          { nil: null },
        ),
        autoRenewOffAfterSeconds: fc.option(fc.integer({ min: 0, max: seconds(3 * 365) }), { nil: null }),
        supportRequest: fc.option(
          fc.record({
            requested: fc.integer({ min: 1, max: 100_000 }),
            decision: fc.oneof(
              fc.constant<Decision>({ kind: 'approve-all' }),
              fc.double({ min: 0, max: 1, noNaN: true }).map<Decision>((share) => ({ kind: 'approve-part', share })),
              fc.constant<Decision>({ kind: 'approve-above' }),
              fc.constant<Decision>({ kind: 'approve-other-currency' }),
              fc.constant<Decision>({ kind: 'reject' }),
            ),
            decidedAfterDays: fc.integer({ min: 1, max: 400 }),
          }),
          { nil: null },
        ),
      }),
    ),
  );

interface LoggedEvent {
  event: DomainEvent;
  eventId: string;
  position: string;
}

/** One subscription as the test watches it: its folded state and a snapshot of every finished term. */
interface WatchedSubscription {
  subscriptionId: string;
  state: SubscriptionState;
  finishedTerms: { term: Term; billed: number[] }[];
  cancellationAccepted: boolean | null;
  windowOpenAtCancellation: boolean | null;
}

interface Simulation {
  log: LoggedEvent[];
  subscriptions: Map<string, WatchedSubscription>;
  orders: Map<string, { plan: PurchasePlan; state: OrderState; cancellationAccepted: boolean | null; cancelledAtMs: number | null }>;
  /** Approved support-request credits by the subscription or (perpetual) order they name. */
  approvedCredits: Map<string, number>;
}

function simulate(plans: PurchasePlan[]): Simulation {
  const simulation: Simulation = { log: [], subscriptions: new Map(), orders: new Map(), approvedCredits: new Map() };
  const append = (events: DomainEvent[]): void => {
    for (const event of events) {
      const n = simulation.log.length + 1;
      simulation.log.push({ event, eventId: `evt-${n}`, position: `${n}.${n}` });
    }
  };
  const apply = (watched: WatchedSubscription, events: SubscriptionEvent[]): void => {
    for (const event of events) {
      if (event.type === 'SubscriptionRenewed') {
        const current = watched.state as ExistingSubscriptionState;
        watched.finishedTerms.push({ term: current.term, billed: [...current.billedSequences] });
      }
      watched.state = subscriptionDecider.evolve(watched.state, event);
    }
    append(events);
  };
  const advanceAllTo = (instant: string): void => {
    for (const watched of simulation.subscriptions.values()) {
      for (let due = nextLifecycleDueAt(watched.state); due && Date.parse(due) <= Date.parse(instant); due = nextLifecycleDueAt(watched.state)) {
        apply(watched, subscriptionDecider.decide({ type: 'AdvanceLifecycle', now: due, ...renewalPrice(watched.state) }, watched.state));
      }
    }
  };
  const tryDecide = <T>(decide: () => T[]): T[] | null => {
    try {
      return decide();
    } catch (error) {
      if (error instanceof DomainError) return null;
      throw error;
    }
  };

  const actions: { atMs: number; run: () => void }[] = [];
  plans.forEach((plan, index) => {
    const orderId = `order-${index + 1}`;
    const subscriptionId = plan.sku.termDuration ? `sub-${index + 1}` : null;
    const purchasedAt = new Date(plan.purchasedAtMs).toISOString();
    actions.push({
      atMs: plan.purchasedAtMs,
      run: () => {
        const [placed] = orderDecider.decide(
          {
            type: 'PurchaseSoftware',
            orderId,
            partnerId: 'partner-1',
            customer: customers[plan.market],
            lineItems: [{ skuId: plan.sku.skuId, quantity: plan.quantity, billingCycle: plan.billingCycle }],
            subscriptionIds: subscriptionId ? [subscriptionId] : [],
            purchasedAt,
            backfilled: false,
          },
          orderDecider.initialState(),
        ) as [OrderPlaced];
        append([placed]);
        simulation.orders.set(orderId, { plan, state: orderDecider.evolve(orderDecider.initialState(), placed), cancellationAccepted: null, cancelledAtMs: null });
        if (subscriptionId) {
          const watched: WatchedSubscription = {
            subscriptionId,
            state: subscriptionDecider.initialState(),
            finishedTerms: [],
            cancellationAccepted: null,
            windowOpenAtCancellation: null,
          };
          simulation.subscriptions.set(subscriptionId, watched);
          apply(watched, subscriptionDecider.decide({ type: 'StartSubscription', order: placed.data, lineItemNumber: 1 }, watched.state));
        }
      },
    });

    if (plan.cancellation) {
      const years = plan.sku.termDuration === 'P3Y' ? 3 : 1;
      // Perpetual software has one 30-day window from the purchase: the near-a-window offset is
      // stretched fourfold so that it lands on both sides of it.
      const nearWindowMs = (offsetSeconds: number, termIndex: number): number =>
        subscriptionId
          ? Date.parse(addMonths(purchasedAt, 12 * years * termIndex)) + offsetSeconds * 1000
          : plan.purchasedAtMs + offsetSeconds * 4000;
      const cancelAtMs =
        'termIndex' in plan.cancellation
          ? nearWindowMs(plan.cancellation.offsetSeconds, plan.cancellation.termIndex)
          : plan.purchasedAtMs + plan.cancellation.anyOffsetSeconds * 1000;
      const at = new Date(Math.max(cancelAtMs, plan.purchasedAtMs)).toISOString();
      actions.push({
        atMs: Date.parse(at),
        run: () => {
          if (subscriptionId) {
            const watched = simulation.subscriptions.get(subscriptionId)!;
            const state = watched.state as ExistingSubscriptionState;
            const termStart = Date.parse(state.term.start);
            watched.windowOpenAtCancellation =
              state.status === 'active' && state.profile.cancellable && termStart <= Date.parse(at) && Date.parse(at) < termStart + 7 * DAY;
            const events = tryDecide(() => subscriptionDecider.decide({ type: 'CancelSubscription', at } satisfies SubscriptionCommand, state));
            watched.cancellationAccepted = events !== null;
            if (events) apply(watched, events);
          } else {
            const order = simulation.orders.get(orderId)!;
            const events = tryDecide(() => orderDecider.decide({ type: 'CancelPerpetual', at }, order.state));
            order.cancellationAccepted = events !== null;
            if (events) {
              order.cancelledAtMs = Date.parse(at);
              append(events);
            }
          }
        },
      });
    }

    if (subscriptionId && plan.autoRenewOffAfterSeconds !== null) {
      const at = new Date(plan.purchasedAtMs + plan.autoRenewOffAfterSeconds * 1000).toISOString();
      actions.push({
        atMs: Date.parse(at),
        run: () => {
          const watched = simulation.subscriptions.get(subscriptionId)!;
          const events = tryDecide(() => subscriptionDecider.decide({ type: 'ToggleAutorenew', autoRenewEnabled: false, at }, watched.state));
          if (events) apply(watched, events);
        },
      });
    }

    if (plan.supportRequest) {
      const { requested, decision, decidedAfterDays } = plan.supportRequest;
      const currency = plan.sku.prices[plan.market]!.currency;
      const requestId = `req-${index + 1}`;
      const creditedTo = subscriptionId ?? orderId;
      let requestState: SupportRequestState = supportRequestDecider.initialState();
      const record = (events: SupportRequestEvent[]): void => {
        requestState = events.reduce(supportRequestDecider.evolve, requestState);
        append(events);
      };
      const submittedAtMs = plan.purchasedAtMs + DAY;
      actions.push({
        atMs: submittedAtMs,
        run: () =>
          record(
            supportRequestDecider.decide(
              {
                type: 'SubmitSupportRequest',
                requestId,
                partnerId: 'partner-1',
                submittedBy: { userId: 'agent-1' },
                problemType: 'CSP purchase/refund on behalf of customers',
                impact: 'moderate',
                title: 'Refund request',
                description: {
                  customerId: customers[plan.market].customerId,
                  orderId,
                  ...(subscriptionId ? { subscriptionId } : {}),
                  refundReason: 'Customer bought by mistake',
                  requestedAmount: money(requested, currency),
                },
                contact: { name: 'Alex', email: 'alex@partner.example', phone: '+49 30 123456' },
                attachments: [],
                at: new Date(submittedAtMs).toISOString(),
              },
              requestState,
            ),
          ),
      });
      const decidedAtMs = submittedAtMs + decidedAfterDays * DAY;
      const decide = (kind: Decision['kind'], atMs: number): void => {
        const at = new Date(atMs).toISOString();
        const decidedBy = { userId: 'billing-1' };
        const approve = (amount?: Money) => () => supportRequestDecider.decide({ type: 'ApproveSupportRequest', decidedBy, at, ...(amount ? { amount } : {}) }, requestState);
        const approvedAmount =
          kind === 'approve-all' ? requested : decision.kind === 'approve-part' ? Math.max(1, Math.floor(requested * decision.share)) : null;
        const attempt =
          kind === 'approve-all'
            ? approve()
            : kind === 'approve-part'
              ? approve(money(approvedAmount!, currency))
              : kind === 'approve-above'
                ? approve(money(requested + 1, currency))
                : kind === 'approve-other-currency'
                  ? approve(money(1, currency === 'EUR' ? 'USD' : 'EUR'))
                  : () => supportRequestDecider.decide({ type: 'RejectSupportRequest', reason: 'Outside policy', decidedBy, at }, requestState);
        const events = tryDecide(attempt);
        if (!events) return;
        record(events);
        if (approvedAmount !== null) simulation.approvedCredits.set(creditedTo, (simulation.approvedCredits.get(creditedTo) ?? 0) + approvedAmount);
      };
      actions.push({ atMs: decidedAtMs, run: () => decide(decision.kind, decidedAtMs) });
      // A second decision is refused (ALREADY_DECIDED) and must credit nothing more.
      actions.push({ atMs: decidedAtMs + DAY, run: () => decide('approve-all', decidedAtMs + DAY) });
    }
  });

  actions
    .map((action, order) => ({ ...action, order }))
    .sort((a, b) => a.atMs - b.atMs || a.order - b.order)
    .forEach((action) => {
      advanceAllTo(new Date(action.atMs).toISOString());
      action.run();
    });
  advanceAllTo(HORIZON);
  return simulation;
}

/** Renewals take the catalogue price times the quantity, as the lifecycle service does. */
function renewalPrice(state: SubscriptionState): { renewalTermPrice?: Money } {
  if (state.status === 'none') return {};
  const unitPrice = fixtureSkus.find((sku) => sku.skuId === state.profile.skuId)!.prices[state.profile.country]!;
  return { renewalTermPrice: money(unitPrice.amount * state.profile.quantity, unitPrice.currency) };
}

function ledgerOf(log: LoggedEvent[]): LedgerEntry[] {
  return log.flatMap(({ event, eventId, position }) => ledgerEntriesOf(event, { eventId, position }));
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** Rounds n / d (d > 0, n ≥ 0, both exact in a double) to the nearest integer, ties to even. */
function roundHalfEven(n: number, d: number): number {
  const quotient = Math.floor(n / d);
  const twiceRemainder = 2 * (n - quotient * d);
  if (twiceRemainder > d || (twiceRemainder === d && quotient % 2 === 1)) return quotient + 1;
  return quotient;
}

function monthAfter(instant: string): string {
  const date = new Date(instant);
  const next = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
  return `${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** What the test expects for one subscription, from its folded state alone. */
function expectedForSubscription(watched: WatchedSubscription): { billed: number; refund: number; unbilledInCancelledTerm: number; currency: string } {
  const state = watched.state as ExistingSubscriptionState;
  const terms = [...watched.finishedTerms, { term: state.term, billed: state.billedSequences }];
  const billedIn = ({ term, billed }: (typeof terms)[number]): number =>
    sum(term.installments.filter((installment) => billed.includes(installment.sequence)).map((installment) => installment.amount.amount));
  for (const finished of watched.finishedTerms) {
    // A term that ended was billed in full, and its installments add up to its price.
    expect(billedIn(finished)).toBe(finished.term.price.amount);
  }
  let refund = 0;
  let unbilledInCancelledTerm = 0;
  if (state.status === 'cancelled') {
    const { term } = state;
    const cancelledAt = Date.parse(state.cancellation!.cancelledAt);
    const usedDays = Math.max(1, Math.ceil((cancelledAt - Date.parse(term.start)) / DAY));
    const termDays = Math.round((Date.parse(term.end) - Date.parse(term.start)) / DAY);
    const chargedForTerm = billedIn(terms[terms.length - 1]!);
    refund = Math.max(0, chargedForTerm - roundHalfEven(term.price.amount * usedDays, termDays));
    // The schedule adds up to the term price, so what was not billed is the price less the charges.
    unbilledInCancelledTerm = term.price.amount - chargedForTerm;
    expect(unbilledInCancelledTerm).toBe(
      sum(term.installments.filter((installment) => !state.billedSequences.includes(installment.sequence)).map((installment) => installment.amount.amount)),
    );
  }
  return { billed: sum(terms.map(billedIn)), refund, unbilledInCancelledTerm, currency: state.term.price.currency };
}

describe('the ledger over simulated years of purchases, renewals, cancellations and support requests', () => {
  it('nets, per subscription, the installments billed minus the refund and approved credits, and voids what a cancelled term never billed', () => {
    fc.assert(
      fc.property(fc.array(purchasePlan, { minLength: 1, maxLength: 4 }), (plans) => {
        const simulation = simulate(plans);
        const ledger = ledgerOf(simulation.log);
        const expectedNetByCurrency = new Map<string, number>();
        const expectedVoidsByCurrency = new Map<string, number>();
        const addTo = (totals: Map<string, number>, currency: string, amount: number): void => {
          totals.set(currency, (totals.get(currency) ?? 0) + amount);
        };

        for (const watched of simulation.subscriptions.values()) {
          const expected = expectedForSubscription(watched);
          const approved = simulation.approvedCredits.get(watched.subscriptionId) ?? 0;
          const entries = ledger.filter((entry) => entry.subscriptionId === watched.subscriptionId);
          const net = sum(entries.filter((entry) => entry.kind !== 'void').map((entry) => entry.amount.amount));
          const voids = sum(entries.filter((entry) => entry.kind === 'void').map((entry) => entry.amount.amount));
          expect(net).toBe(expected.billed - expected.refund - approved);
          expect(voids).toBe(0 - expected.unbilledInCancelledTerm);
          if (watched.cancellationAccepted !== null) expect(watched.cancellationAccepted).toBe(watched.windowOpenAtCancellation);
          if (!watched.cancellationAccepted) expect(entries.filter((entry) => entry.kind === 'refund' || entry.kind === 'void')).toEqual([]);
          addTo(expectedNetByCurrency, expected.currency, expected.billed - expected.refund - approved);
          addTo(expectedVoidsByCurrency, expected.currency, -expected.unbilledInCancelledTerm);
        }

        for (const [orderId, order] of simulation.orders) {
          if (order.plan.sku.termDuration) continue;
          const linePrice = order.plan.sku.prices[order.plan.market]!.amount * order.plan.quantity;
          const cancelledInWindow = order.cancelledAtMs !== null && order.cancelledAtMs < order.plan.purchasedAtMs + 30 * DAY;
          if (order.cancellationAccepted !== null) expect(order.cancellationAccepted).toBe(order.cancelledAtMs !== null && cancelledInWindow);
          const credits = ledger.filter((entry) => entry.orderId === orderId && entry.kind === 'credit');
          const expectedCredit = (cancelledInWindow ? linePrice : 0) + (simulation.approvedCredits.get(orderId) ?? 0);
          expect(sum(credits.map((entry) => entry.amount.amount))).toBe(0 - expectedCredit);
          addTo(expectedNetByCurrency, order.plan.sku.prices[order.plan.market]!.currency, -expectedCredit);
        }

        for (const total of ledgerTotals(ledger)) {
          expect(expectedNetByCurrency.has(total.currency)).toBe(true);
          expect(total.net).toBe(expectedNetByCurrency.get(total.currency));
          expect(total.voids).toBe(expectedVoidsByCurrency.get(total.currency) ?? 0);
          expect(total.net).toBe(total.charges + total.refunds + total.credits);
        }

        for (const entry of ledger) {
          expect(Object.is(entry.amount.amount, -0)).toBe(false);
          expect(entry.kind === 'charge' ? entry.amount.amount >= 0 : entry.amount.amount <= 0).toBe(true);
          expect(entry.invoicePeriod).toBe(entry.kind === 'charge' ? entry.occurredAt.slice(0, 7) : monthAfter(entry.occurredAt));
        }
        expect(new Set(ledger.map((entry) => entry.id)).size).toBe(ledger.length);

        // A rebuild from the same log gives identical entries and checksum, in whatever order they are summed.
        const rebuilt = ledgerOf(structuredClone(simulation.log));
        expect(rebuilt).toEqual(ledger);
        expect(ledgerChecksum([...rebuilt].reverse())).toBe(ledgerChecksum(ledger));
      }),
      { numRuns: 100 },
    );
  });
});
