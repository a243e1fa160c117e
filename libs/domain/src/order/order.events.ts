import type { BillingCycle, ProductKind, TermDuration } from '../catalogue/sku';
import type { DomainEvent } from '../shared/event';
import type { Money } from '../shared/money';

export const orderStream = (orderId: string): string => `order-${orderId}`;

export interface OrderLine {
  lineItemNumber: number;
  skuId: string;
  productId: string;
  title: string;
  /** How the partner names the purchase; defaults to the title. Identifies a subscription for cancellation. */
  friendlyName: string;
  publisher: string;
  kind: ProductKind;
  quantity: number;
  billingCycle: BillingCycle;
  termDuration: TermDuration | null;
  unitPrice: Money;
  /** unitPrice × quantity: what one whole term (perpetual: the purchase) costs. */
  totalPrice: Money;
  taxIncluded: boolean;
  /** Subscription kinds become subscriptions with their own id; perpetual lines stay order lines. */
  subscriptionId: string | null;
  cancellable: boolean;
  deliversKeys: boolean;
}

export type OrderPlaced = DomainEvent<
  'OrderPlaced',
  {
    orderId: string;
    customerId: string;
    partnerId: string;
    country: string;
    /** When the customer bought: the server clock, or the real historic date for a backfill. */
    purchasedAt: string;
    /** True when an Importer backfilled a historic purchase. */
    backfilled: boolean;
    lineItems: OrderLine[];
  }
>;

export type PerpetualLineCancelled = DomainEvent<
  'PerpetualLineCancelled',
  {
    orderId: string;
    customerId: string;
    lineItemNumber: number;
    cancelledAt: string;
    /** 100 % of the line, on the partner's next monthly invoice. */
    credit: Money;
    invoicePeriod: string;
  }
>;

export type OrderEvent = OrderPlaced | PerpetualLineCancelled;
