import type { Catalogue } from '../catalogue/catalogue';
import { isSubscriptionKind, type BillingCycle } from '../catalogue/sku';
import type { CustomerState } from '../customer/customer.decider';
import { azureReservationsAvailableIn } from '../markets/azure-reservation-markets';
import { isCancellableProduct } from '../policies/cancellability.policy';
import {
  cancellationWindowClosed,
  isWithinPerpetualCancellationWindow,
  perpetualCancellationAllowedUntil,
} from '../policies/cancellation-window.policy';
import { pricesIncludeTax } from '../policies/tax.policy';
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { money, type Money } from '../shared/money';
import { nextInvoicePeriod } from '../shared/time';
import type { OrderEvent, OrderLine, OrderPlaced, PerpetualLineCancelled } from './order.events';

export interface RequestedLine {
  skuId: string;
  quantity: number;
  billingCycle: BillingCycle;
  friendlyName?: string;
}

export interface PurchaseSoftware {
  type: 'PurchaseSoftware';
  orderId: string;
  /** The caller's partner; the customer must belong to it. */
  partnerId: string;
  customer: CustomerState;
  lineItems: RequestedLine[];
  /** One fresh id per line, used for the lines that become subscriptions. */
  subscriptionIds: string[];
  purchasedAt: string;
  backfilled: boolean;
}

export interface CancelPerpetual {
  type: 'CancelPerpetual';
  /** Absent: every perpetual line of the order. */
  lineItemNumbers?: number[];
  at: string;
}

export type OrderCommand = PurchaseSoftware | CancelPerpetual;

export interface PlacedOrderState {
  status: 'placed';
  order: OrderPlaced['data'];
  cancelledLines: Record<number, PerpetualLineCancelled['data']>;
}

export type OrderState = { status: 'none' } | PlacedOrderState;

export function unknownCustomer(customerId: string): DomainError {
  return new DomainError('UNKNOWN_CUSTOMER', 'not_found', `Customer ${customerId} is not known`);
}

export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return { status: 'placed', order: event.data, cancelledLines: {} };
    case 'PerpetualLineCancelled':
      if (state.status !== 'placed') return state;
      return { ...state, cancelledLines: { ...state.cancelledLines, [event.data.lineItemNumber]: event.data } };
  }
}

/** The order decider needs the catalogue: products are data the service loads. */
export function createOrderDecider(catalogue: Catalogue): Decider<OrderCommand, OrderEvent, OrderState> {
  return {
    initialState: () => ({ status: 'none' }),

    evolve: evolveOrder,

    decide(command, state) {
      switch (command.type) {
        case 'PurchaseSoftware':
          return [placeOrder(command, state, catalogue)];
        case 'CancelPerpetual':
          return cancelPerpetualLines(command, state);
      }
    },
  };
}

function placeOrder(command: PurchaseSoftware, state: OrderState, catalogue: Catalogue): OrderPlaced {
  if (state.status !== 'none') {
    throw new DomainError('ORDER_ALREADY_EXISTS', 'conflict', `Order ${command.orderId} already exists`);
  }
  const customer = command.customer;
  if (customer.status !== 'registered' || customer.partnerId !== command.partnerId) {
    throw unknownCustomer(customer.status === 'registered' ? customer.customerId : 'requested');
  }
  if (command.lineItems.length === 0) {
    throw new DomainError('EMPTY_ORDER', 'invalid', 'An order needs at least one line item');
  }
  const lineItems = command.lineItems.map((requested, index): OrderLine => {
    const sku = catalogue.find(requested.skuId);
    if (!sku) throw new DomainError('UNKNOWN_SKU', 'unprocessable', `SKU ${requested.skuId} is not in the catalogue`);
    if (sku.kind === 'AzureReservation' && !azureReservationsAvailableIn(customer.country)) {
      throw new DomainError(
        'AZURE_RESERVATIONS_UNAVAILABLE',
        'unprocessable',
        `Azure Reservations cannot be sold to customers in ${customer.country}`,
        { country: customer.country },
      );
    }
    if (!sku.billingCycles.includes(requested.billingCycle)) {
      throw new DomainError(
        'BILLING_PLAN_NOT_OFFERED',
        'unprocessable',
        `SKU ${sku.skuId} is not offered with ${requested.billingCycle} billing`,
        { billingCyclesOffered: sku.billingCycles },
      );
    }
    const unitPrice = catalogue.priceFor(sku, customer.country);
    if (!unitPrice) {
      throw new DomainError(
        'SKU_NOT_AVAILABLE_IN_MARKET',
        'unprocessable',
        `SKU ${sku.skuId} has no price in market ${customer.country}`,
      );
    }
    const subscriptionId = isSubscriptionKind(sku.kind) ? command.subscriptionIds[index] : undefined;
    if (isSubscriptionKind(sku.kind) && !subscriptionId) throw new RangeError('PurchaseSoftware needs a subscription id per line');
    return {
      lineItemNumber: index + 1,
      skuId: sku.skuId,
      productId: sku.productId,
      title: sku.title,
      friendlyName: requested.friendlyName ?? sku.title,
      publisher: sku.publisher,
      kind: sku.kind,
      quantity: requested.quantity,
      billingCycle: requested.billingCycle,
      termDuration: sku.termDuration ?? null,
      unitPrice,
      totalPrice: money(unitPrice.amount * requested.quantity, unitPrice.currency),
      taxIncluded: pricesIncludeTax(customer.country),
      subscriptionId: subscriptionId ?? null,
      cancellable: isCancellableProduct(sku),
      deliversKeys: sku.deliversKeys,
    };
  });
  return {
    type: 'OrderPlaced',
    data: {
      orderId: command.orderId,
      customerId: customer.customerId,
      partnerId: customer.partnerId,
      country: customer.country,
      purchasedAt: command.purchasedAt,
      backfilled: command.backfilled,
      lineItems,
    },
  };
}

export function orderNotFound(): DomainError {
  return new DomainError('ORDER_NOT_FOUND', 'not_found', 'Order not found');
}

function cancelPerpetualLines(command: CancelPerpetual, state: OrderState): PerpetualLineCancelled[] {
  if (state.status !== 'placed') throw orderNotFound();
  const { order } = state;
  const perpetualLines = order.lineItems.filter((line) => !isSubscriptionKind(line.kind));
  let targets: OrderLine[];
  if (command.lineItemNumbers) {
    // A line named twice in one request is cancelled (and credited) once.
    targets = [...new Set(command.lineItemNumbers)].map((number) => {
      const line = order.lineItems.find((candidate) => candidate.lineItemNumber === number);
      if (!line) throw new DomainError('UNKNOWN_LINE_ITEM', 'unprocessable', `Order has no line item ${number}`);
      if (isSubscriptionKind(line.kind)) {
        throw new DomainError(
          'NOT_A_PERPETUAL_LINE',
          'unprocessable',
          `Line item ${number} is a subscription; cancel it through its subscription`,
          { subscriptionId: line.subscriptionId },
        );
      }
      return line;
    });
    if (targets.some((line) => state.cancelledLines[line.lineItemNumber])) {
      throw new DomainError('ALREADY_CANCELLED', 'conflict', 'The line item is already cancelled');
    }
  } else {
    if (perpetualLines.length === 0) {
      throw new DomainError('NO_PERPETUAL_LINES', 'unprocessable', 'The order holds no perpetual software');
    }
    targets = perpetualLines.filter((line) => !state.cancelledLines[line.lineItemNumber]);
    if (targets.length === 0) {
      throw new DomainError('ALREADY_CANCELLED', 'conflict', 'The order is already cancelled');
    }
  }
  if (targets.some((line) => !line.cancellable)) {
    throw new DomainError('NOT_CANCELLABLE', 'unprocessable', 'This product can never be cancelled');
  }
  if (!isWithinPerpetualCancellationWindow(order.purchasedAt, command.at)) {
    throw cancellationWindowClosed('This perpetual software', perpetualCancellationAllowedUntil(order.purchasedAt));
  }
  const invoicePeriod = nextInvoicePeriod(command.at);
  return targets.map((line) => ({
    type: 'PerpetualLineCancelled',
    data: {
      orderId: order.orderId,
      customerId: order.customerId,
      lineItemNumber: line.lineItemNumber,
      cancelledAt: command.at,
      credit: creditForLine(line),
      invoicePeriod,
    },
  }));
}

/** A perpetual cancellation credits 100 % of the line, with no early-cancellation fee. */
function creditForLine(line: OrderLine): Money {
  return line.totalPrice;
}
