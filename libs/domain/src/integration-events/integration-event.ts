import type { BillingCycle, ProductKind, TermDuration } from '../catalogue/sku';
import type { CustomerEvent } from '../customer/customer.events';
import { ledgerEntriesOf, type LedgerEntry, type LedgerEntryKind } from '../ledger/ledger-entry';
import type { OrderEvent } from '../order/order.events';
import type { DomainEvent } from '../shared/event';
import type { Money } from '../shared/money';
import { softwareIdOf } from '../software/software.events';
import type { SubscriptionEvent } from '../subscription/subscription.events';
import type { SupportRequestEvent } from '../support-request/support-request.events';

/**
 * The public integration-event contract, version 1: what backend services receive through the feed
 * (`GET /v1/events`) and webhooks. The domain events stay free to change; this contract changes
 * additively only (new types, new fields). A breaking change becomes a new type name beside the old one.
 */
export const INTEGRATION_EVENTS_VERSION = 1;

export const INTEGRATION_EVENT_TYPES = [
  'order.placed',
  'subscription.started',
  'subscription.renewed',
  'subscription.expired',
  'subscription.cancelled',
  'subscription.autorenew_changed',
  'perpetual.cancelled',
  'software.revoked',
  'ledger.entry_recorded',
  'support_request.decided',
] as const;

export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];

export function isIntegrationEventType(text: string): text is IntegrationEventType {
  return (INTEGRATION_EVENT_TYPES as readonly string[]).includes(text);
}

export interface OrderPlacedData {
  orderId: string;
  customerId: string;
  purchasedAt: string;
  /** True for a historic purchase an importer backfilled. */
  backfilled: boolean;
  lineItems: {
    lineItemNumber: number;
    skuId: string;
    productId: string;
    title: string;
    kind: ProductKind;
    quantity: number;
    billingCycle: BillingCycle;
    termDuration: TermDuration | null;
    unitPrice: Money;
    totalPrice: Money;
    taxIncluded: boolean;
    subscriptionId: string | null;
  }[];
}

interface TermData {
  termNumber: number;
  termStartDate: string;
  termEndDate: string;
  termPrice: Money;
}

export interface SubscriptionStartedData extends TermData {
  subscriptionId: string;
  orderId: string;
  customerId: string;
  lineItemNumber: number;
  skuId: string;
  productId: string;
  title: string;
  friendlyName: string;
  quantity: number;
  billingCycle: BillingCycle;
  termDuration: TermDuration;
  autoRenewEnabled: boolean;
}

export interface SubscriptionRenewedData extends TermData {
  subscriptionId: string;
  orderId: string;
  customerId: string;
  renewedAt: string;
}

export interface SubscriptionExpiredData {
  subscriptionId: string;
  orderId: string;
  customerId: string;
  expiredAt: string;
}

export interface SubscriptionCancelledData {
  subscriptionId: string;
  orderId: string;
  customerId: string;
  cancelledAt: string;
  termNumber: number;
  /** The same figures a cancellation answers with over HTTP. */
  refund: Money & { usedDays: number; termDays: number; usedCost: Money; invoicePeriod: string };
}

export interface AutoRenewChangedData {
  subscriptionId: string;
  customerId: string;
  autoRenewEnabled: boolean;
  changedAt: string;
}

export interface PerpetualCancelledData {
  orderId: string;
  customerId: string;
  lineItemNumber: number;
  cancelledAt: string;
  /** 100 % of the line, on the next monthly invoice. */
  credit: Money & { invoicePeriod: string };
}

export interface SoftwareRevokedData {
  softwareId: string;
  customerId: string;
  orderId: string;
  subscriptionId: string | null;
  revokedAt: string;
  reason: 'subscription_cancelled' | 'perpetual_cancelled';
}

export interface LedgerEntryRecordedData {
  entryId: string;
  kind: LedgerEntryKind;
  customerId: string;
  orderId: string | null;
  subscriptionId: string | null;
  supportRequestId: string | null;
  /** Signed: charges positive; refunds, credits and voids negative. */
  amount: Money;
  invoicePeriod: string;
  reason: string;
}

export interface SupportRequestDecidedData {
  requestId: string;
  customerId: string;
  orderId: string | null;
  subscriptionId: string | null;
  decision: 'approved' | 'rejected';
  requestedAmount: Money | null;
  /** Present when approved: the amount credited. */
  approvedAmount: Money | null;
  /** Present when rejected. */
  reason: string | null;
  decidedAt: string;
}

export interface IntegrationEventDataByType {
  'order.placed': OrderPlacedData;
  'subscription.started': SubscriptionStartedData;
  'subscription.renewed': SubscriptionRenewedData;
  'subscription.expired': SubscriptionExpiredData;
  'subscription.cancelled': SubscriptionCancelledData;
  'subscription.autorenew_changed': AutoRenewChangedData;
  'perpetual.cancelled': PerpetualCancelledData;
  'software.revoked': SoftwareRevokedData;
  'ledger.entry_recorded': LedgerEntryRecordedData;
  'support_request.decided': SupportRequestDecidedData;
}

/**
 * Each type's `data` fields, in the order `integrationEventsOf` writes them (and a consumer sees
 * them). The feed's store keeps a row's `data` as these fields' values alone; a new field goes at the
 * end of its list, as the contract only grows.
 */
export const INTEGRATION_EVENT_DATA_FIELDS: { readonly [T in IntegrationEventType]: readonly (keyof IntegrationEventDataByType[T])[] } = {
  'order.placed': ['orderId', 'customerId', 'purchasedAt', 'backfilled', 'lineItems'],
  'subscription.started': [
    'subscriptionId',
    'orderId',
    'customerId',
    'lineItemNumber',
    'skuId',
    'productId',
    'title',
    'friendlyName',
    'quantity',
    'billingCycle',
    'termDuration',
    'autoRenewEnabled',
    'termNumber',
    'termStartDate',
    'termEndDate',
    'termPrice',
  ],
  'subscription.renewed': ['subscriptionId', 'orderId', 'customerId', 'renewedAt', 'termNumber', 'termStartDate', 'termEndDate', 'termPrice'],
  'subscription.expired': ['subscriptionId', 'orderId', 'customerId', 'expiredAt'],
  'subscription.cancelled': ['subscriptionId', 'orderId', 'customerId', 'cancelledAt', 'termNumber', 'refund'],
  'subscription.autorenew_changed': ['subscriptionId', 'customerId', 'autoRenewEnabled', 'changedAt'],
  'perpetual.cancelled': ['orderId', 'customerId', 'lineItemNumber', 'cancelledAt', 'credit'],
  'software.revoked': ['softwareId', 'customerId', 'orderId', 'subscriptionId', 'revokedAt', 'reason'],
  'ledger.entry_recorded': ['entryId', 'kind', 'customerId', 'orderId', 'subscriptionId', 'supportRequestId', 'amount', 'invoicePeriod', 'reason'],
  'support_request.decided': ['requestId', 'customerId', 'orderId', 'subscriptionId', 'decision', 'requestedAmount', 'approvedAmount', 'reason', 'decidedAt'],
};

/** One public event, as the feed lists it and a webhook delivers it. */
export type IntegrationEvent<Type extends IntegrationEventType = IntegrationEventType> = {
  [T in Type]: {
    /** `<source event id>:<type>:<n>`: the same on every redelivery and every rebuild. */
    id: string;
    type: T;
    /** The domain instant of the fact (purchase, renewal, cancellation, due date...). */
    occurredAt: string;
    /** The source event's log position (`<commit>.<prepare>`); several events may share one. */
    position: string;
    /** The customer's tenant GUID. */
    tenant: string;
    data: IntegrationEventDataByType[T];
  };
}[Type];

export interface IntegrationEventSource {
  eventId: string;
  position: string;
}

/** An integration event and the partner its source names, where the source names one. */
export interface MappedIntegrationEvent {
  event: IntegrationEvent;
  partnerId?: string;
}

type SourceEvent = CustomerEvent | OrderEvent | SubscriptionEvent | SupportRequestEvent;

/**
 * The integration events one domain event yields, in the order a consumer should see them; pure, so
 * a rebuild of the feed gives the same events with the same ids. Never copies key text: no software
 * event other than the revocation a cancellation implies is published.
 *
 * @example
 *   integrationEventsOf(subscriptionCancelled, { eventId: 'e-7', position: '42.42' })
 *   // [subscription.cancelled, software.revoked, ledger.entry_recorded (the refund, when there is one)]
 */
export function integrationEventsOf(domainEvent: DomainEvent, source: IntegrationEventSource): MappedIntegrationEvent[] {
  const idOf = eventIdsOf(source.eventId);
  return mapSourceEvent<MappedIntegrationEvent>(
    domainEvent,
    (type, tenant, occurredAt, data, partnerId) => {
      const published = { id: idOf(type), type, occurredAt, position: source.position, tenant, data: data() } as IntegrationEvent;
      return partnerId === undefined ? { event: published } : { event: published, partnerId };
    },
    (partnerId) =>
      ledgerEntriesOf(domainEvent, source).map((entry) => (partnerId === undefined ? { event: ledgerEntryRecorded(entry) } : { event: ledgerEntryRecorded(entry), partnerId })),
  );
}

/** One integration event's id, type and customer, and the partner its source names: what the feed's fold needs of it. */
export interface IntegrationEventPlace {
  id: string;
  type: IntegrationEventType;
  tenant: string;
  partnerId?: string;
}

/**
 * The events `integrationEventsOf` yields but the ledger entries' (which always come last), in the
 * same order and with the same ids, without their data: the feed's fold stores no more of them. It
 * builds no data and derives no ledger entry, in about a third of the time `integrationEventsOf` takes.
 */
export function integrationEventPlacesOf(domainEvent: DomainEvent, source: Pick<IntegrationEventSource, 'eventId'>): IntegrationEventPlace[] {
  const idOf = eventIdsOf(source.eventId);
  return mapSourceEvent<IntegrationEventPlace>(
    domainEvent,
    (type, tenant, _occurredAt, _data, partnerId) => (partnerId === undefined ? { id: idOf(type), type, tenant } : { id: idOf(type), type, tenant, partnerId }),
    () => [],
  );
}

/** `<source event id>:<type>:<n>`, the n-th event of that type the source yields. */
function eventIdsOf(sourceEventId: string): (type: IntegrationEventType) => string {
  const counts = new Map<string, number>();
  return (type) => {
    const ordinal = counts.get(type) ?? 0;
    counts.set(type, ordinal + 1);
    return `${sourceEventId}:${type}:${ordinal}`;
  };
}

/** One event of the source's, its data made only by who needs it. */
type Publish<Mapped> = <Type extends IntegrationEventType>(
  type: Type,
  tenant: string,
  occurredAt: string,
  data: () => IntegrationEventDataByType[Type],
  partnerId?: string,
) => Mapped;

function mapSourceEvent<Mapped>(domainEvent: DomainEvent, publish: Publish<Mapped>, ledgerEntries: (partnerId?: string) => Mapped[]): Mapped[] {
  const event = domainEvent as SourceEvent;
  // The ledger entries are always the last events of their source: the feed reads them from the
  // ledger's entries and places them after the source's own events (`feedSequenceOfLedgerEntry`).
  switch (event.type) {
    case 'OrderPlaced': {
      const { data } = event;
      return [
        publish(
          'order.placed',
          data.customerId,
          data.purchasedAt,
          () => ({
            orderId: data.orderId,
            customerId: data.customerId,
            purchasedAt: data.purchasedAt,
            backfilled: data.backfilled,
            lineItems: data.lineItems.map((line) => ({
              lineItemNumber: line.lineItemNumber,
              skuId: line.skuId,
              productId: line.productId,
              title: line.title,
              kind: line.kind,
              quantity: line.quantity,
              billingCycle: line.billingCycle,
              termDuration: line.termDuration,
              unitPrice: line.unitPrice,
              totalPrice: line.totalPrice,
              taxIncluded: line.taxIncluded,
              subscriptionId: line.subscriptionId,
            })),
          }),
          data.partnerId,
        ),
      ];
    }
    case 'SubscriptionStarted': {
      const { data } = event;
      return [
        publish(
          'subscription.started',
          data.customerId,
          data.term.start,
          () => ({
            subscriptionId: data.subscriptionId,
            orderId: data.orderId,
            customerId: data.customerId,
            lineItemNumber: data.lineItemNumber,
            skuId: data.skuId,
            productId: data.productId,
            title: data.title,
            friendlyName: data.friendlyName,
            quantity: data.quantity,
            billingCycle: data.billingCycle,
            termDuration: data.termDuration,
            autoRenewEnabled: data.autoRenewEnabled,
            termNumber: data.term.number,
            termStartDate: data.term.start,
            termEndDate: data.term.end,
            termPrice: data.term.price,
          }),
          data.partnerId,
        ),
      ];
    }
    case 'SubscriptionRenewed': {
      const { data } = event;
      return [
        publish('subscription.renewed', data.customerId, data.renewedAt, () => ({
          subscriptionId: data.subscriptionId,
          orderId: data.orderId,
          customerId: data.customerId,
          renewedAt: data.renewedAt,
          termNumber: data.term.number,
          termStartDate: data.term.start,
          termEndDate: data.term.end,
          termPrice: data.term.price,
        })),
      ];
    }
    case 'SubscriptionExpired': {
      const { data } = event;
      return [
        publish('subscription.expired', data.customerId, data.expiredAt, () => ({
          subscriptionId: data.subscriptionId,
          orderId: data.orderId,
          customerId: data.customerId,
          expiredAt: data.expiredAt,
        })),
      ];
    }
    case 'SubscriptionCancelled': {
      const { data } = event;
      return [
        publish('subscription.cancelled', data.customerId, data.cancelledAt, () => ({
          subscriptionId: data.subscriptionId,
          orderId: data.orderId,
          customerId: data.customerId,
          cancelledAt: data.cancelledAt,
          termNumber: data.termNumber,
          refund: {
            ...data.refund,
            usedDays: data.usedDays,
            termDays: data.termDays,
            usedCost: data.usedCost,
            invoicePeriod: data.invoicePeriod,
          },
        })),
        publish('software.revoked', data.customerId, data.cancelledAt, () => ({
          softwareId: data.subscriptionId,
          customerId: data.customerId,
          orderId: data.orderId,
          subscriptionId: data.subscriptionId,
          revokedAt: data.cancelledAt,
          reason: 'subscription_cancelled',
        })),
        ...ledgerEntries(),
      ];
    }
    case 'AutoRenewChanged': {
      const { data } = event;
      return [
        publish('subscription.autorenew_changed', data.customerId, data.changedAt, () => ({
          subscriptionId: data.subscriptionId,
          customerId: data.customerId,
          autoRenewEnabled: data.autoRenewEnabled,
          changedAt: data.changedAt,
        })),
      ];
    }
    case 'PerpetualLineCancelled': {
      const { data } = event;
      return [
        publish('perpetual.cancelled', data.customerId, data.cancelledAt, () => ({
          orderId: data.orderId,
          customerId: data.customerId,
          lineItemNumber: data.lineItemNumber,
          cancelledAt: data.cancelledAt,
          credit: { ...data.credit, invoicePeriod: data.invoicePeriod },
        })),
        publish('software.revoked', data.customerId, data.cancelledAt, () => ({
          softwareId: softwareIdOf(data.orderId, data.lineItemNumber, null),
          customerId: data.customerId,
          orderId: data.orderId,
          subscriptionId: null,
          revokedAt: data.cancelledAt,
          reason: 'perpetual_cancelled',
        })),
        ...ledgerEntries(),
      ];
    }
    case 'InstallmentBilled':
    case 'InstallmentVoided':
    case 'FutureInstallmentsVoided':
      return ledgerEntries();
    case 'SupportRequestApproved': {
      const { data } = event;
      return [
        publish(
          'support_request.decided',
          data.customerId,
          data.decidedAt,
          () => ({
            requestId: data.requestId,
            customerId: data.customerId,
            orderId: data.orderId ?? null,
            subscriptionId: data.subscriptionId ?? null,
            decision: 'approved',
            requestedAmount: data.requestedAmount,
            approvedAmount: data.approvedAmount,
            reason: null,
            decidedAt: data.decidedAt,
          }),
          data.partnerId,
        ),
        ...ledgerEntries(data.partnerId),
      ];
    }
    case 'SupportRequestRejected': {
      const { data } = event;
      return [
        publish(
          'support_request.decided',
          data.customerId,
          data.decidedAt,
          () => ({
            requestId: data.requestId,
            customerId: data.customerId,
            orderId: null,
            subscriptionId: null,
            decision: 'rejected',
            requestedAmount: null,
            approvedAmount: null,
            reason: data.reason,
            decidedAt: data.decidedAt,
          }),
          data.partnerId,
        ),
      ];
    }
    default:
      return [];
  }
}

/**
 * The `ledger.entry_recorded` event of one ledger entry, as `integrationEventsOf` publishes it with
 * the other events of the entry's source: its id is `<source event id>:ledger.entry_recorded:<n>`
 * for the entry `<source event id>:<n>`, so it is made from the entry alone (the feed does so from
 * the ledger's stored entries).
 */
export function ledgerEntryRecorded(entry: LedgerEntry): IntegrationEvent<'ledger.entry_recorded'> {
  const cut = entry.id.lastIndexOf(':');
  return {
    id: `${entry.id.slice(0, cut)}${LEDGER_EVENT_ID_INFIX}${entry.id.slice(cut + 1)}`,
    type: 'ledger.entry_recorded',
    occurredAt: entry.occurredAt,
    position: entry.position,
    tenant: entry.customerId,
    data: {
      entryId: entry.id,
      kind: entry.kind,
      customerId: entry.customerId,
      orderId: entry.orderId ?? null,
      subscriptionId: entry.subscriptionId ?? null,
      supportRequestId: entry.supportRequestId ?? null,
      amount: entry.amount,
      invoicePeriod: entry.invoicePeriod,
      reason: entry.reason,
    },
  };
}

const LEDGER_EVENT_ID_INFIX = ':ledger.entry_recorded:';

/** The id of the ledger entry a `ledger.entry_recorded` event was made from; undefined for any other event's id. */
export function ledgerEntryIdOf(eventId: string): string | undefined {
  return eventId.includes(LEDGER_EVENT_ID_INFIX) ? eventId.replace(LEDGER_EVENT_ID_INFIX, ':') : undefined;
}

/**
 * Where a ledger entry's `ledger.entry_recorded` stands among the integration events of its source
 * event (their `sequence` in the feed): after the source's own events, in entry order. The entry's
 * kind tells its source: a charge or a void stands alone; a refund follows its cancellation and the
 * revocation; a credit follows a perpetual line's cancellation and revocation, or, naming a support
 * request, that request's decision.
 */
export function feedSequenceOfLedgerEntry(entry: Pick<LedgerEntry, 'id' | 'kind' | 'supportRequestId'>): number {
  const index = Number(entry.id.slice(entry.id.lastIndexOf(':') + 1));
  return index + publicEventsBeforeLedgerEntries(entry);
}

function publicEventsBeforeLedgerEntries({ kind, supportRequestId }: Pick<LedgerEntry, 'kind' | 'supportRequestId'>): number {
  switch (kind) {
    case 'charge':
    case 'void':
      return 0;
    case 'refund':
      return 2;
    case 'credit':
      return supportRequestId === undefined ? 2 : 1;
  }
}

/** Source events whose only integration events are ledger entries' (`ledger.entry_recorded`). */
export const LEDGER_ONLY_SOURCE_EVENT_TYPES: ReadonlySet<string> = new Set(['InstallmentBilled', 'InstallmentVoided', 'FutureInstallmentsVoided']);

/** The domain event types that yield integration events (the feed's projection folds these). */
export const INTEGRATION_SOURCE_EVENT_TYPES = [
  'OrderPlaced',
  'SubscriptionStarted',
  'SubscriptionRenewed',
  'SubscriptionExpired',
  'SubscriptionCancelled',
  'AutoRenewChanged',
  'PerpetualLineCancelled',
  'InstallmentBilled',
  'InstallmentVoided',
  'FutureInstallmentsVoided',
  'SupportRequestApproved',
  'SupportRequestRejected',
] as const;
