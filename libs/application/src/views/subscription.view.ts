import type { Money } from '@csp/domain/shared/money';
import { cancellationStatus, type ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';

export interface InstallmentView {
  sequence: number;
  dueDate: string;
  amount: Money;
  status: 'billed' | 'scheduled' | 'voided';
}

/** Partner Center's subscription resource, plus the cancellation window and the term's schedule. */
export interface SubscriptionView {
  id: string;
  friendlyName: string;
  customerId: string;
  orderId: string;
  lineItemNumber: number;
  skuId: string;
  productId: string;
  title: string;
  publisher: string;
  kind: string;
  quantity: number;
  status: 'active' | 'cancelled' | 'expired';
  autoRenewEnabled: boolean;
  termDuration: string;
  billingCycle: string;
  purchaseDate: string;
  termNumber: number;
  termStartDate: string;
  termEndDate: string;
  termPrice: Money;
  taxIncluded: boolean;
  installments: InstallmentView[];
  /** Active subscriptions only: a cancelled or expired one has no window left. */
  cancellationAllowedUntil?: string;
  cancellationWindowPassed?: boolean;
  cancellable: boolean;
  keyAvailable: boolean;
  cancellationDate?: string;
  /** What the cancellation refunded and how it was reached: the same in the cancellation's answer and every read. */
  refund?: Money & { usedDays: number; termDays: number; usedCost: Money; invoicePeriod: string };
  expirationDate?: string;
}

export function subscriptionView(state: ExistingSubscriptionState, now: string): SubscriptionView {
  const { profile, term } = state;
  const window = cancellationStatus(state, now);
  const cancelledTerm = state.cancellation?.termNumber === term.number;
  const view: SubscriptionView = {
    id: profile.subscriptionId,
    friendlyName: profile.friendlyName,
    customerId: profile.customerId,
    orderId: profile.orderId,
    lineItemNumber: profile.lineItemNumber,
    skuId: profile.skuId,
    productId: profile.productId,
    title: profile.title,
    publisher: profile.publisher,
    kind: profile.kind,
    quantity: profile.quantity,
    status: state.status,
    // A cancelled or expired subscription renews no more, whatever the flag was when it ended.
    autoRenewEnabled: state.status === 'active' && state.autoRenewEnabled,
    termDuration: profile.termDuration,
    billingCycle: profile.billingCycle,
    purchaseDate: profile.purchasedAt,
    termNumber: term.number,
    termStartDate: term.start,
    termEndDate: term.end,
    termPrice: term.price,
    taxIncluded: profile.taxIncluded,
    installments: term.installments.map((installment) => ({
      sequence: installment.sequence,
      dueDate: installment.dueAt,
      amount: installment.amount,
      status: state.billedSequences.includes(installment.sequence) ? 'billed' : cancelledTerm ? 'voided' : 'scheduled',
    })),
    ...(state.status === 'active' ? window : { cancellable: false }),
    keyAvailable: profile.deliversKeys && state.status === 'active',
  };
  if (state.cancellation) {
    view.cancellationDate = state.cancellation.cancelledAt;
    const { refund, usedDays, termDays, usedCost, invoicePeriod } = state.cancellation;
    view.refund = { ...refund, usedDays, termDays, usedCost, invoicePeriod };
  }
  if (state.expiredAt) view.expirationDate = state.expiredAt;
  return view;
}
