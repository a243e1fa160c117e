import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { createOrderDecider } from '@csp/domain/order/order.decider';
import type { OrderPlaced } from '@csp/domain/order/order.events';
import { fold } from '@csp/domain/shared/decider';
import { money } from '@csp/domain/shared/money';
import { subscriptionDecider, type ExistingSubscriptionState, type SubscriptionState } from '@csp/domain/subscription/subscription.decider';
import type { SubscriptionEvent } from '@csp/domain/subscription/subscription.events';
import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { storedSubscriptionState, subscriptionStateFromStored } from './subscription-state.storage';

const orderDecider = createOrderDecider(new Catalogue(fixtureSkus));

function startedMonthly(): SubscriptionEvent[] {
  const [placed] = orderDecider.decide(
    {
      type: 'PurchaseSoftware',
      orderId: 'order-1',
      partnerId: 'partner-1',
      customer: { status: 'registered', customerId: 'cust-1', partnerId: 'partner-1', companyName: 'C', domain: 'c.example', country: 'DE' },
      lineItems: [{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'monthly' }],
      subscriptionIds: ['sub-1'],
      purchasedAt: '2026-01-01T00:00:00.000Z',
      backfilled: false,
    },
    orderDecider.initialState(),
  );
  return subscriptionDecider.decide(
    { type: 'StartSubscription', order: (placed as OrderPlaced).data, lineItemNumber: 1 },
    subscriptionDecider.initialState(),
  );
}

const stateAfter = (events: SubscriptionEvent[]) => fold(subscriptionDecider, events) as ExistingSubscriptionState;

function renewed(history: SubscriptionEvent[]): SubscriptionEvent[] {
  const renewal = subscriptionDecider.decide(
    { type: 'AdvanceLifecycle', now: '2027-01-01T00:00:00.000Z', renewalTermPrice: money(400_000, 'EUR') },
    stateAfter(history),
  );
  expect(renewal.map((event) => event.type)).toContain('SubscriptionRenewed');
  return [...history, ...renewal];
}

describe('a subscription state as the subscriptions table keeps it', () => {
  it('holds the first term once while it is the current term, and reads back the state the decider folded', () => {
    const state = stateAfter(startedMonthly());
    const stored = storedSubscriptionState(state);

    expect(JSON.parse(stored).profile).not.toHaveProperty('term');
    expect(stored.length).toBeLessThan(JSON.stringify(state).length - JSON.stringify(state.term).length + 10);
    expect(subscriptionStateFromStored(stored)).toEqual(state);
  });

  it('holds both terms once a renewal has replaced the current one', () => {
    const state = stateAfter(renewed(startedMonthly()));
    expect(state.term.number).toBe(2);
    const stored = storedSubscriptionState(state);

    expect(JSON.parse(stored).profile.term).toMatchObject({ number: 1, start: state.profile.term.start });
    expect(JSON.parse(stored).term).toMatchObject({ number: 2, start: state.term.start });
    expect(subscriptionStateFromStored(stored)).toEqual(state);
  });

  it('keeps installments as lists, the due instants as their dates and their shared time once, a third of their size as objects', () => {
    const state = stateAfter(startedMonthly());
    const stored = JSON.parse(storedSubscriptionState(state));

    expect(stored.term).not.toHaveProperty('installments');
    expect(stored.term.dueTime).toBe('T00:00:00.000Z');
    expect(stored.term.dueDates.map((date: string) => date + stored.term.dueTime)).toEqual(state.term.installments.map((installment) => installment.dueAt));
    expect(stored.term.amounts).toEqual(state.term.installments.map((installment) => installment.amount.amount));
    expect(JSON.stringify(stored.term).length).toBeLessThan(JSON.stringify(state.term).length / 3);
  });

  it('keeps due instants whole when they do not share their time of day', () => {
    const state = stateAfter(startedMonthly());
    const [first, ...rest] = state.term.installments;
    for (const dueAt of ['2026-01-01T01:00:00.000Z', '2026-01-01T00:00:00.000+01:00', '2026-01-01']) {
      const unusual = { ...state, term: { ...state.term, installments: [{ ...first!, dueAt }, ...rest] } };
      const stored = storedSubscriptionState(unusual);

      expect(JSON.parse(stored).term).not.toHaveProperty('dueDates');
      expect(JSON.parse(stored).term.dueAt[0]).toBe(dueAt);
      expect(subscriptionStateFromStored(stored)).toEqual(unusual);
    }
  });

  it('keeps a friendly name once when it is the title, and a changed one as it is', () => {
    const state = stateAfter(startedMonthly());
    expect(state.profile.friendlyName).toBe(state.profile.title);
    const renamed = { ...state, profile: { ...state.profile, friendlyName: 'Build servers' } };

    expect(JSON.parse(storedSubscriptionState(state)).profile).not.toHaveProperty('friendlyName');
    expect(subscriptionStateFromStored(storedSubscriptionState(state))).toEqual(state);
    expect(JSON.parse(storedSubscriptionState(renamed)).profile.friendlyName).toBe('Build servers');
    expect(subscriptionStateFromStored(storedSubscriptionState(renamed))).toEqual(renamed);
  });

  it('reads a row the thirty-fifth round wrote (due instants and the friendly name as text)', () => {
    const state = stateAfter(startedMonthly());
    const { installments, ...term } = state.term;
    const written = JSON.stringify({
      ...state,
      profile: { ...state.profile, term: undefined },
      term: { ...term, dueAt: installments.map((installment) => installment.dueAt), amounts: installments.map((installment) => installment.amount.amount) },
    });

    expect(subscriptionStateFromStored(written)).toEqual(state);
  });

  it('keeps installments as objects when they are not numbered from 1 in the price currency', () => {
    const state = stateAfter(startedMonthly());
    const [first, ...rest] = state.term.installments;
    for (const installments of [rest, [{ ...first!, amount: money(first!.amount.amount, 'USD') }, ...rest]]) {
      const unusual = { ...state, term: { ...state.term, installments } };
      const stored = storedSubscriptionState(unusual);

      expect(JSON.parse(stored).term.installments).toEqual(installments);
      expect(subscriptionStateFromStored(stored)).toEqual(unusual);
    }
  });

  it('reads a row written whole before, and stores it with the term once when written again', () => {
    const history = startedMonthly();
    const writtenWhole = JSON.stringify(stateAfter(history));

    const read = subscriptionStateFromStored(writtenWhole);
    expect(read).toEqual(stateAfter(history));
    expect(JSON.parse(storedSubscriptionState(read)).profile).not.toHaveProperty('term');
  });

  it('folding on from a stored state gives what folding the whole history gives', () => {
    const history = renewed(startedMonthly());
    for (let split = 1; split < history.length; split++) {
      const resumed = subscriptionStateFromStored(storedSubscriptionState(stateAfter(history.slice(0, split))));
      const onward = history.slice(split).reduce<SubscriptionState>((state, event) => subscriptionDecider.evolve(state, event), resumed);
      expect(onward).toEqual(stateAfter(history));
    }
  });
});
