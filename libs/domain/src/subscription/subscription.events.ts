import type { BillingCycle, ProductKind, TermDuration } from '../catalogue/sku';
import type { DomainEvent } from '../shared/event';
import type { Money } from '../shared/money';

export const subscriptionStream = (subscriptionId: string): string => `subscription-${subscriptionId}`;

export interface Installment {
  /** 1-based within its term. */
  sequence: number;
  dueAt: string;
  amount: Money;
}

export interface Term {
  /** 1 for the purchased term, +1 for each renewal. */
  number: number;
  start: string;
  end: string;
  /** Price of the whole term for all units, fixed when the term starts. */
  price: Money;
  installments: Installment[];
}

export type SubscriptionStarted = DomainEvent<
  'SubscriptionStarted',
  {
    subscriptionId: string;
    orderId: string;
    customerId: string;
    partnerId: string;
    /** The customer's market, for the price of each renewal. */
    country: string;
    lineItemNumber: number;
    skuId: string;
    productId: string;
    title: string;
    publisher: string;
    kind: ProductKind;
    friendlyName: string;
    quantity: number;
    billingCycle: BillingCycle;
    termDuration: TermDuration;
    purchasedAt: string;
    /** Purchased before 2021-10-14T00:00Z: expires at term end, never autorenews, not listed. */
    legacy: boolean;
    autoRenewEnabled: boolean;
    cancellable: boolean;
    deliversKeys: boolean;
    taxIncluded: boolean;
    term: Term;
  }
>;

export type InstallmentBilled = DomainEvent<
  'InstallmentBilled',
  {
    subscriptionId: string;
    customerId: string;
    orderId: string;
    termNumber: number;
    sequence: number;
    dueAt: string;
    amount: Money;
    invoicePeriod: string;
  }
>;

export type AutoRenewChanged = DomainEvent<
  'AutoRenewChanged',
  { subscriptionId: string; customerId: string; autoRenewEnabled: boolean; changedAt: string }
>;

export type SubscriptionCancelled = DomainEvent<
  'SubscriptionCancelled',
  {
    subscriptionId: string;
    customerId: string;
    orderId: string;
    cancelledAt: string;
    termNumber: number;
    usedDays: number;
    termDays: number;
    usedCost: Money;
    chargedForTerm: Money;
    refund: Money;
    invoicePeriod: string;
  }
>;

/**
 * One future installment withdrawn on cancellation. Written until the twenty-fourth round, one
 * event per installment; a cancellation now records `FutureInstallmentsVoided` instead. Logs hold
 * both, so every fold still reads this one.
 */
export type InstallmentVoided = DomainEvent<
  'InstallmentVoided',
  {
    subscriptionId: string;
    customerId: string;
    orderId: string;
    termNumber: number;
    sequence: number;
    dueAt: string;
    amount: Money;
    voidedAt: string;
    invoicePeriod: string;
  }
>;

/**
 * The installments of the cancelled term not billed yet, withdrawn in one fact with the
 * cancellation (SPEC: "future installments are voided"). Each yields a `void` ledger entry.
 */
export type FutureInstallmentsVoided = DomainEvent<
  'FutureInstallmentsVoided',
  {
    subscriptionId: string;
    customerId: string;
    orderId: string;
    termNumber: number;
    /** In schedule order. */
    installments: Installment[];
    voidedAt: string;
    invoicePeriod: string;
  }
>;

export type SubscriptionRenewed = DomainEvent<
  'SubscriptionRenewed',
  { subscriptionId: string; customerId: string; orderId: string; renewedAt: string; term: Term }
>;

export type SubscriptionExpired = DomainEvent<
  'SubscriptionExpired',
  { subscriptionId: string; customerId: string; orderId: string; expiredAt: string }
>;

export type SubscriptionEvent =
  | SubscriptionStarted
  | InstallmentBilled
  | AutoRenewChanged
  | SubscriptionCancelled
  | InstallmentVoided
  | FutureInstallmentsVoided
  | SubscriptionRenewed
  | SubscriptionExpired;
