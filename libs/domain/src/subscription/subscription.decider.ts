import type { OrderLine, OrderPlaced } from '../order/order.events';
import {
  cancellationWindowClosed,
  isWithinSubscriptionCancellationWindow,
  subscriptionCancellationAllowedUntil,
} from '../policies/cancellation-window.policy';
import { installmentSchedule } from '../policies/installments.policy';
import { proratedRefund } from '../policies/proration.policy';
import { isLegacyPurchase } from '../policies/purchase-date.policy';
import { termEndFor } from '../policies/term.policy';
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { addMoney, money, type Money } from '../shared/money';
import { invoicePeriodOf, nextInvoicePeriod, toMs } from '../shared/time';
import type {
  InstallmentBilled,
  SubscriptionCancelled,
  SubscriptionEvent,
  SubscriptionStarted,
  Term,
} from './subscription.events';

/** Creates the subscription of one order line; a no-op when it already exists (fulfilment may retry). */
export interface StartSubscription {
  type: 'StartSubscription';
  order: OrderPlaced['data'];
  lineItemNumber: number;
}

export interface ToggleAutorenew {
  type: 'ToggleAutorenew';
  autoRenewEnabled: boolean;
  at: string;
}

export interface CancelSubscription {
  type: 'CancelSubscription';
  at: string;
}

/**
 * Appends every transition due up to `now`: installments falling due, then at term end a renewal
 * (autorenewing, non-legacy) or an expiry. `renewalTermPrice` is the catalogue price of a whole
 * term for all units at the time of processing; absent when the SKU left the catalogue, in which
 * case the previous term's price carries over.
 */
export interface AdvanceLifecycle {
  type: 'AdvanceLifecycle';
  now: string;
  renewalTermPrice?: Money;
}

export type SubscriptionCommand = StartSubscription | ToggleAutorenew | CancelSubscription | AdvanceLifecycle;

export type SubscriptionProfile = SubscriptionStarted['data'];

export interface ExistingSubscriptionState {
  status: 'active' | 'cancelled' | 'expired';
  profile: SubscriptionProfile;
  autoRenewEnabled: boolean;
  term: Term;
  /** Installment sequences of the current term that have been billed. */
  billedSequences: number[];
  chargedForTerm: Money;
  cancellation?: SubscriptionCancelled['data'];
  expiredAt?: string;
}

export type SubscriptionState = { status: 'none' } | ExistingSubscriptionState;

export function subscriptionNotFound(): DomainError {
  return new DomainError('SUBSCRIPTION_NOT_FOUND', 'not_found', 'Subscription not found');
}

export const subscriptionDecider: Decider<SubscriptionCommand, SubscriptionEvent, SubscriptionState> = {
  initialState: () => ({ status: 'none' }),

  evolve(state, event) {
    if (event.type === 'SubscriptionStarted') {
      return {
        status: 'active',
        profile: event.data,
        autoRenewEnabled: event.data.autoRenewEnabled,
        term: event.data.term,
        billedSequences: [],
        chargedForTerm: money(0, event.data.term.price.currency),
      };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'InstallmentBilled':
        return {
          ...state,
          billedSequences: [...state.billedSequences, event.data.sequence],
          chargedForTerm: addMoney(state.chargedForTerm, event.data.amount),
        };
      case 'AutoRenewChanged':
        return { ...state, autoRenewEnabled: event.data.autoRenewEnabled };
      case 'SubscriptionCancelled':
        return { ...state, status: 'cancelled', cancellation: event.data };
      case 'InstallmentVoided':
      case 'FutureInstallmentsVoided':
        return state;
      case 'SubscriptionRenewed':
        return {
          ...state,
          term: event.data.term,
          billedSequences: [],
          chargedForTerm: money(0, event.data.term.price.currency),
        };
      case 'SubscriptionExpired':
        return { ...state, status: 'expired', expiredAt: event.data.expiredAt };
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'StartSubscription':
        return state.status === 'none' ? startSubscription(command) : [];
      case 'ToggleAutorenew':
        return changeAutoRenew(command, existing(state));
      case 'CancelSubscription':
        return cancelSubscription(command, existing(state));
      case 'AdvanceLifecycle':
        return advanceLifecycle(command, existing(state));
    }
  },
};

function existing(state: SubscriptionState): ExistingSubscriptionState {
  if (state.status === 'none') throw subscriptionNotFound();
  return state;
}

function startSubscription(command: StartSubscription): SubscriptionEvent[] {
  const { order } = command;
  const line = order.lineItems.find((candidate) => candidate.lineItemNumber === command.lineItemNumber);
  if (!line?.subscriptionId || !line.termDuration) {
    throw new RangeError(`Order ${order.orderId} line ${command.lineItemNumber} is not a subscription`);
  }
  const legacy = isLegacyPurchase(order.purchasedAt);
  const term = newTerm(1, order.purchasedAt, line, line.totalPrice);
  const started: SubscriptionStarted = {
    type: 'SubscriptionStarted',
    data: {
      subscriptionId: line.subscriptionId,
      orderId: order.orderId,
      customerId: order.customerId,
      partnerId: order.partnerId,
      country: order.country,
      lineItemNumber: line.lineItemNumber,
      skuId: line.skuId,
      productId: line.productId,
      title: line.title,
      publisher: line.publisher,
      kind: line.kind,
      friendlyName: line.friendlyName,
      quantity: line.quantity,
      billingCycle: line.billingCycle,
      termDuration: line.termDuration,
      purchasedAt: order.purchasedAt,
      legacy,
      autoRenewEnabled: !legacy,
      cancellable: line.cancellable,
      deliversKeys: line.deliversKeys,
      taxIncluded: line.taxIncluded,
      term,
    },
  };
  // The first installment falls due at purchase, so it is billed with it.
  const firstInstallment = term.installments[0]!;
  return [started, installmentBilled(started.data, term, firstInstallment.sequence)];
}

function newTerm(number: number, start: string, line: Pick<OrderLine, 'billingCycle'> & { termDuration: OrderLine['termDuration'] }, price: Money): Term {
  const termDuration = line.termDuration!;
  return {
    number,
    start,
    end: termEndFor(start, termDuration),
    price,
    installments: installmentSchedule(start, termDuration, line.billingCycle, price),
  };
}

function installmentBilled(profile: SubscriptionProfile, term: Term, sequence: number): InstallmentBilled {
  const installment = term.installments.find((candidate) => candidate.sequence === sequence)!;
  return {
    type: 'InstallmentBilled',
    data: {
      subscriptionId: profile.subscriptionId,
      customerId: profile.customerId,
      orderId: profile.orderId,
      termNumber: term.number,
      sequence,
      dueAt: installment.dueAt,
      amount: installment.amount,
      invoicePeriod: invoicePeriodOf(installment.dueAt),
    },
  };
}

function changeAutoRenew(command: ToggleAutorenew, state: ExistingSubscriptionState): SubscriptionEvent[] {
  if (state.profile.legacy) {
    throw new DomainError(
      'AUTORENEW_NOT_AVAILABLE',
      'unprocessable',
      'Subscriptions purchased before 2021-10-14 expire at their term end and cannot autorenew',
    );
  }
  if (state.status !== 'active') {
    throw new DomainError('AUTORENEW_NOT_AVAILABLE', 'unprocessable', `The subscription is ${state.status}`);
  }
  if (state.autoRenewEnabled === command.autoRenewEnabled) return [];
  return [
    {
      type: 'AutoRenewChanged',
      data: {
        subscriptionId: state.profile.subscriptionId,
        customerId: state.profile.customerId,
        autoRenewEnabled: command.autoRenewEnabled,
        changedAt: command.at,
      },
    },
  ];
}

/** When cancellation of the current term is allowed, and whether it would be accepted at `at`. */
export function cancellationStatus(
  state: ExistingSubscriptionState,
  at: string,
): { cancellationAllowedUntil: string; cancellationWindowPassed: boolean; cancellable: boolean } {
  const cancellationAllowedUntil = subscriptionCancellationAllowedUntil(state.term.start);
  const cancellationWindowPassed = toMs(at) >= toMs(cancellationAllowedUntil);
  const cancellable =
    state.status === 'active' &&
    state.profile.cancellable &&
    isWithinSubscriptionCancellationWindow(state.term.start, at);
  return { cancellationAllowedUntil, cancellationWindowPassed, cancellable };
}

function cancelSubscription(command: CancelSubscription, state: ExistingSubscriptionState): SubscriptionEvent[] {
  if (state.status === 'cancelled') {
    throw new DomainError('ALREADY_CANCELLED', 'conflict', 'The subscription is already cancelled');
  }
  if (state.status === 'expired') {
    throw new DomainError('SUBSCRIPTION_NOT_ACTIVE', 'unprocessable', 'The subscription has expired');
  }
  if (!state.profile.cancellable) {
    throw new DomainError('NOT_CANCELLABLE', 'unprocessable', `${state.profile.publisher} plans can never be cancelled`);
  }
  const { term, profile } = state;
  if (!isWithinSubscriptionCancellationWindow(term.start, command.at)) {
    throw cancellationWindowClosed('This term', subscriptionCancellationAllowedUntil(term.start));
  }
  const proration = proratedRefund({
    termStart: term.start,
    termEnd: term.end,
    termPrice: term.price,
    chargedForTerm: state.chargedForTerm,
    at: command.at,
  });
  const invoicePeriod = nextInvoicePeriod(command.at);
  const { subscriptionId, customerId, orderId } = profile;
  const unbilled = term.installments.filter((installment) => !state.billedSequences.includes(installment.sequence));
  const cancelled: SubscriptionEvent = {
    type: 'SubscriptionCancelled',
    data: {
      subscriptionId,
      customerId,
      orderId,
      cancelledAt: command.at,
      termNumber: term.number,
      usedDays: proration.usedDays,
      termDays: proration.termDays,
      usedCost: proration.usedCost,
      chargedForTerm: state.chargedForTerm,
      refund: proration.refund,
      invoicePeriod,
    },
  };
  if (unbilled.length === 0) return [cancelled];
  return [
    cancelled,
    {
      type: 'FutureInstallmentsVoided',
      data: { subscriptionId, customerId, orderId, termNumber: term.number, installments: unbilled, voidedAt: command.at, invoicePeriod },
    },
  ];
}

function advanceLifecycle(command: AdvanceLifecycle, initial: ExistingSubscriptionState): SubscriptionEvent[] {
  const events: SubscriptionEvent[] = [];
  let state = initial;
  const now = toMs(command.now);
  const apply = (event: SubscriptionEvent): void => {
    events.push(event);
    state = subscriptionDecider.evolve(state, event) as ExistingSubscriptionState;
  };
  while (state.status === 'active') {
    const { term, profile } = state;
    for (const installment of term.installments) {
      if (toMs(installment.dueAt) <= now && !state.billedSequences.includes(installment.sequence)) {
        apply(installmentBilled(profile, term, installment.sequence));
      }
    }
    if (toMs(term.end) > now) break;
    const identity = { subscriptionId: profile.subscriptionId, customerId: profile.customerId, orderId: profile.orderId };
    if (state.autoRenewEnabled && !profile.legacy) {
      const price = command.renewalTermPrice ?? term.price;
      apply({
        type: 'SubscriptionRenewed',
        data: { ...identity, renewedAt: term.end, term: newTerm(term.number + 1, term.end, profile, price) },
      });
    } else {
      apply({ type: 'SubscriptionExpired', data: { ...identity, expiredAt: term.end } });
    }
  }
  return events;
}

/**
 * The next instant at which the lifecycle has something to do (an installment falling due or the
 * term ending), or undefined when nothing ever will (cancelled, expired).
 */
export function nextLifecycleDueAt(state: SubscriptionState): string | undefined {
  if (state.status !== 'active') return undefined;
  const unbilled = state.term.installments
    .filter((installment) => !state.billedSequences.includes(installment.sequence))
    .map((installment) => installment.dueAt);
  return [...unbilled, state.term.end].sort()[0];
}
