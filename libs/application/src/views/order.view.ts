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
  /** Perpetual lines: active or cancelled. Subscription lines: provisioned (see the subscription). */
  status: 'active' | 'cancelled' | 'provisioned';
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
  /** `completed`, or `cancelled` once every line is cancelled perpetual software. */
  status: 'completed' | 'cancelled';
  creationDate: string;
  backfilled: boolean;
  lineItems: OrderLineView[];
}

export function orderView(state: PlacedOrderState, now: string): OrderView {
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
      return { ...common, subscriptionId: line.subscriptionId ?? undefined, status: 'provisioned' };
    }
    const cancellation = state.cancelledLines[line.lineItemNumber];
    const cancellationAllowedUntil = perpetualCancellationAllowedUntil(order.purchasedAt);
    const open = isWithinPerpetualCancellationWindow(order.purchasedAt, now);
    return {
      ...common,
      status: cancellation ? 'cancelled' : 'active',
      cancellationAllowedUntil,
      cancellationDaysLeft: daysLeftUntil(cancellationAllowedUntil, now),
      cancellationWindowPassed: !open,
      cancellable: !cancellation && open && line.cancellable,
      keyAvailable: line.deliversKeys && !cancellation,
      ...(cancellation ? { credit: { ...cancellation.credit, invoicePeriod: cancellation.invoicePeriod } } : {}),
    };
  });
  const allCancelled = lineItems.every((line) => line.status === 'cancelled');
  return {
    id: order.orderId,
    customerId: order.customerId,
    status: allCancelled ? 'cancelled' : 'completed',
    creationDate: order.purchasedAt,
    backfilled: order.backfilled,
    lineItems,
  };
}
