import { isSubscriptionKind } from '@csp/domain/catalogue/sku';
import type { PlacedOrderState } from '@csp/domain/order/order.decider';
import {
  daysLeftUntil,
  isWithinPerpetualCancellationWindow,
  perpetualCancellationAllowedUntil,
} from '@csp/domain/policies/cancellation-window.policy';
import type { Money } from '@csp/domain/shared/money';

export interface OrderLineView {
  lineItemNumber: number;
  skuId: string;
  productId: string;
  title: string;
  friendlyName: string;
  kind: string;
  quantity: number;
  billingCycle: string;
  termDuration: string | null;
  subscriptionId?: string;
  /** What the line costs: one whole term for all units (perpetual: the purchase). */
  price: Money;
  unitPrice: Money;
  taxIncluded: boolean;
  /**
   * Perpetual lines: active or cancelled. Subscription lines: `pending` until their subscription is
   * durable, then `provisioned` (see the subscription), `cancelled` once it is cancelled.
   */
  status: 'active' | 'cancelled' | 'provisioned' | 'pending';
  cancellationAllowedUntil?: string;
  cancellationDaysLeft?: number;
  cancellationWindowPassed?: boolean;
  cancellable?: boolean;
  keyAvailable?: boolean;
  credit?: Money & { invoicePeriod: string };
}

export interface OrderView {
  id: string;
  customerId: string;
  /** `pending` while a line is, `cancelled` once every line is, `completed` otherwise. */
  status: 'pending' | 'completed' | 'cancelled';
  creationDate: string;
  backfilled: boolean;
  lineItems: OrderLineView[];
}

/** What is known of each subscription line: absent means its subscription has not started yet. */
export type SubscriptionLines = Readonly<Record<string, 'provisioned' | 'cancelled'>>;

/** The order as the orders read model keeps it: the domain's fold plus its subscription lines. */
export type StoredOrderState = PlacedOrderState & { subscriptionLines?: SubscriptionLines };

/** The order at `now`; `subscriptionLines` defaults to what the stored state carries. */
export function orderView(state: StoredOrderState, now: string, subscriptionLines: SubscriptionLines = state.subscriptionLines ?? {}): OrderView {
  const { order } = state;
  const lineItems = order.lineItems.map((line): OrderLineView => {
    const common = {
      lineItemNumber: line.lineItemNumber,
      skuId: line.skuId,
      productId: line.productId,
      title: line.title,
      friendlyName: line.friendlyName,
      kind: line.kind,
      quantity: line.quantity,
      billingCycle: line.billingCycle,
      termDuration: line.termDuration,
      price: line.totalPrice,
      unitPrice: line.unitPrice,
      taxIncluded: line.taxIncluded,
    };
    if (isSubscriptionKind(line.kind)) {
      const subscriptionId = line.subscriptionId ?? undefined;
      return { ...common, subscriptionId, status: (subscriptionId && subscriptionLines[subscriptionId]) || 'pending' };
    }
    const cancellation = state.cancelledLines[line.lineItemNumber];
    if (cancellation) {
      // A cancelled line has no window left to count down: only what the cancellation gave back.
      const credit = { ...cancellation.credit, invoicePeriod: cancellation.invoicePeriod };
      return { ...common, status: 'cancelled', cancellable: false, keyAvailable: false, credit };
    }
    const cancellationAllowedUntil = perpetualCancellationAllowedUntil(order.purchasedAt);
    const open = isWithinPerpetualCancellationWindow(order.purchasedAt, now);
    return {
      ...common,
      status: 'active',
      cancellationAllowedUntil,
      cancellationDaysLeft: daysLeftUntil(cancellationAllowedUntil, now),
      cancellationWindowPassed: !open,
      cancellable: open && line.cancellable,
      keyAvailable: line.deliversKeys,
    };
  });
  return {
    id: order.orderId,
    customerId: order.customerId,
    status: orderStatus(lineItems),
    creationDate: order.purchasedAt,
    backfilled: order.backfilled,
    lineItems,
  };
}

/** An order's status never contradicts its lines. */
function orderStatus(lines: readonly OrderLineView[]): OrderView['status'] {
  if (lines.some((line) => line.status === 'pending')) return 'pending';
  return lines.every((line) => line.status === 'cancelled') ? 'cancelled' : 'completed';
}
