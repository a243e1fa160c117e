import type { PerpetualLineCancelled } from '../order/order.events';
import type { DomainEvent } from '../shared/event';
import type { Money } from '../shared/money';
import type { FutureInstallmentsVoided, InstallmentBilled, InstallmentVoided, SubscriptionCancelled } from '../subscription/subscription.events';
import type { SupportRequestApproved } from '../support-request/support-request.events';

export type LedgerEntryKind = 'charge' | 'refund' | 'credit' | 'void';

/** One line of the refund/credit ledger, derived from exactly one event of the log. */
export interface LedgerEntry {
  /** `<source event id>:<index>`: a rebuild from the same log gives the same ids. */
  id: string;
  kind: LedgerEntryKind;
  customerId: string;
  orderId?: string;
  subscriptionId?: string;
  supportRequestId?: string;
  /** Signed: charges positive; refunds, credits and voids negative (never -0). */
  amount: Money;
  /** `YYYY-MM`. */
  invoicePeriod: string;
  reason: string;
  /** The source event's log position, `<commit>.<prepare>`. */
  position: string;
  /** The domain instant of the fact: dueAt, cancelledAt, voidedAt or decidedAt. */
  occurredAt: string;
}

export interface LedgerSource {
  eventId: string;
  position: string;
}

type LedgerSourceEvent =
  | InstallmentBilled
  | SubscriptionCancelled
  | InstallmentVoided
  | FutureInstallmentsVoided
  | PerpetualLineCancelled
  | SupportRequestApproved;

const LEDGER_SOURCE_TYPES: ReadonlySet<string> = new Set<LedgerSourceEvent['type']>([
  'InstallmentBilled',
  'SubscriptionCancelled',
  'InstallmentVoided',
  'FutureInstallmentsVoided',
  'PerpetualLineCancelled',
  'SupportRequestApproved',
]);

/**
 * The ledger entries one event yields; pure, so replaying the log rebuilds the same ledger.
 * Every period is the one the event itself carries:
 * - `InstallmentBilled` → `charge` (+amount) in the month the installment falls due;
 * - `SubscriptionCancelled` → `refund` (−refund) on the next monthly invoice, only when something is refunded;
 * - `FutureInstallmentsVoided` → one `void` (−amount) per installment, in schedule order, on the same
 *   next invoice as the cancellation's refund (the decider stamps the cancellation's period on it),
 *   not in the month each would have fallen due: the withdrawal is news on the invoice that reports
 *   the cancellation, and a void is never in `net`;
 * - `InstallmentVoided` (one installment an event, as cancellations recorded it before) → the same `void`;
 * - `PerpetualLineCancelled` → `credit` (−credit) on the next monthly invoice;
 * - `SupportRequestApproved` → `credit` (−approved amount) on the invoice after the month of approval;
 * - anything else → nothing.
 *
 * @example ledgerEntriesOf(installmentBilled, { eventId: 'e-1', position: '42.42' })
 *   // [{ id: 'e-1:0', kind: 'charge', amount: { amount: 30424, currency: 'EUR' }, invoicePeriod: '2026-01', ... }]
 */
export function ledgerEntriesOf(event: DomainEvent, source: LedgerSource): LedgerEntry[] {
  if (!isLedgerSource(event)) return [];
  // Not `{ id, ...fields, position }`: on Node 20 a property after a spread in an object literal
  // costs about a microsecond, and every ledger event a fold handles passes here twice (ledger, feed).
  const entry: EntryOf = (index, fields) =>
    Object.assign({ id: `${source.eventId}:${index}` }, fields, { position: source.position });
  switch (event.type) {
    case 'InstallmentBilled': {
      const { data } = event;
      return [
        entry(0, {
          kind: 'charge',
          customerId: data.customerId,
          orderId: data.orderId,
          subscriptionId: data.subscriptionId,
          amount: data.amount,
          invoicePeriod: data.invoicePeriod,
          reason: `installment ${data.sequence} of term ${data.termNumber}`,
          occurredAt: data.dueAt,
        }),
      ];
    }
    case 'SubscriptionCancelled': {
      const { data } = event;
      if (data.refund.amount <= 0) return [];
      return [
        entry(0, {
          kind: 'refund',
          customerId: data.customerId,
          orderId: data.orderId,
          subscriptionId: data.subscriptionId,
          amount: negated(data.refund),
          invoicePeriod: data.invoicePeriod,
          reason: `prorated refund: ${data.usedDays} of ${data.termDays} days used`,
          occurredAt: data.cancelledAt,
        }),
      ];
    }
    case 'InstallmentVoided': {
      const { data } = event;
      return [voidEntry(entry, 0, data, data)];
    }
    case 'FutureInstallmentsVoided': {
      const { data } = event;
      return data.installments.map((installment, index) => voidEntry(entry, index, data, installment));
    }
    case 'PerpetualLineCancelled': {
      const { data } = event;
      return [
        entry(0, {
          kind: 'credit',
          customerId: data.customerId,
          orderId: data.orderId,
          amount: negated(data.credit),
          invoicePeriod: data.invoicePeriod,
          reason: `perpetual line ${data.lineItemNumber} cancelled: full credit`,
          occurredAt: data.cancelledAt,
        }),
      ];
    }
    case 'SupportRequestApproved': {
      const { data } = event;
      const extent = data.approvedAmount.amount < data.requestedAmount.amount ? 'in part' : 'in full';
      return [
        entry(0, {
          kind: 'credit',
          customerId: data.customerId,
          ...(data.orderId ? { orderId: data.orderId } : {}),
          ...(data.subscriptionId ? { subscriptionId: data.subscriptionId } : {}),
          supportRequestId: data.requestId,
          amount: negated(data.approvedAmount),
          invoicePeriod: data.invoicePeriod,
          reason: `support request approved ${extent}`,
          occurredAt: data.decidedAt,
        }),
      ];
    }
  }
}

/**
 * An entry's id `<source event id>:<index>` taken apart; undefined for a text that is no such id
 * (no `:`, or an index not written as `ledgerEntriesOf` writes it: decimal, no leading zero).
 *
 * @example ledgerEntryIdParts('e-1:10') // { source: 'e-1', index: 10 }
 */
export function ledgerEntryIdParts(id: string): { source: string; index: number } | undefined {
  const colon = id.lastIndexOf(':');
  const index = id.slice(colon + 1);
  return colon >= 0 && /^(0|[1-9]\d{0,8})$/.test(index) ? { source: id.slice(0, colon), index: Number(index) } : undefined;
}

function isLedgerSource(event: DomainEvent): event is LedgerSourceEvent {
  return LEDGER_SOURCE_TYPES.has(event.type);
}

// 0 - 0 is +0 where -0 would be -0: a zero amount must render as "0" in the checksum and exports.
function negated(amount: Money): Money {
  return { amount: 0 - amount.amount, currency: amount.currency };
}

type EntryOf = (index: number, fields: Omit<LedgerEntry, 'id' | 'position'>) => LedgerEntry;

/** The `void` of one withdrawn installment, whichever of the two void events recorded it. */
function voidEntry(
  entry: EntryOf,
  index: number,
  voided: { customerId: string; orderId: string; subscriptionId: string; termNumber: number; invoicePeriod: string; voidedAt: string },
  installment: { sequence: number; dueAt: string; amount: Money },
): LedgerEntry {
  return entry(index, {
    kind: 'void',
    customerId: voided.customerId,
    orderId: voided.orderId,
    subscriptionId: voided.subscriptionId,
    amount: negated(installment.amount),
    invoicePeriod: voided.invoicePeriod,
    reason: `installment ${installment.sequence} of term ${voided.termNumber} withdrawn (was due ${installment.dueAt.slice(0, 10)})`,
    occurredAt: voided.voidedAt,
  });
}
