import { customerStream } from '@csp/domain/customer/customer.events';
import type { RecordedEvent } from '@csp/event-store';
import { idsPossiblyStored } from './rows-stored-before';
import { statementChunks } from './statement-chunks';

export interface CustomerPartner {
  customerId: string;
  partnerId: string;
}

/** A row a source event adds, finished once its customer's partner is known. */
export interface RowForCustomer<Row> {
  customerId: string;
  /** When the event names the partner itself; otherwise the customer's registration says. */
  partnerId?: string;
  complete(partnerId: string): Row;
}

/** Where a projection keeps the partner of each customer it has seen registered. */
export interface PartnersByCustomer {
  /** The partners already stored for these customers (at most 128 of them a call). */
  storedPartners(customerIds: readonly string[]): Promise<Map<string, string>>;
  /** Inserts customers, keeping a stored one as it is. */
  insertCustomers(customers: readonly CustomerPartner[]): Promise<void>;
}

/**
 * How one append-only, partner-scoped projection (the ledger, the integration-event feed) reads
 * events and writes rows; `foldPartneredRows` does the batching.
 */
export interface PartneredRowsFold<Row> extends PartnersByCustomer {
  /**
   * A customer's registration: an event of that customer's own stream (`customerStream`), the only
   * kind of event that stores its partner.
   */
  registrationOf(event: RecordedEvent): CustomerPartner | undefined;
  rowsOf(event: RecordedEvent): RowForCustomer<Row>[];
  /** Inserts rows, keeping a stored one with the same id as it is. */
  insertRows(rows: readonly Row[]): Promise<void>;
}

/**
 * Folds a batch with one read of the stored partners and a few multi-row inserts, leaving what
 * folding each event in turn would: a row's partner is the one stored before the batch, else the
 * one a registration earlier in the batch gave (a later registration of a stored customer changes
 * nothing, as its insert does nothing), else `''` (no partner's users see it).
 */
export async function foldPartneredRows<Row>(events: readonly RecordedEvent[], fold: PartneredRowsFold<Row>): Promise<void> {
  const registered = new Map<string, string>();
  const registrations: CustomerPartner[] = [];
  const pending: { row: RowForCustomer<Row>; registeredEarlier: string | undefined }[] = [];
  for (const event of events) {
    const registration = fold.registrationOf(event);
    if (registration) {
      if (!registered.has(registration.customerId)) registered.set(registration.customerId, registration.partnerId);
      registrations.push(registration);
      continue;
    }
    for (const row of fold.rowsOf(event)) pending.push({ row, registeredEarlier: registered.get(row.customerId) });
  }
  const unnamed = [...new Set(pending.filter(({ row }) => row.partnerId === undefined).map(({ row }) => row.customerId))];
  // A customer whose stream begins in this batch has no stored partner yet: its registration here names it.
  const stored = new Map<string, string>();
  for (const customerIds of statementChunks(idsPossiblyStored(events, unnamed, customerStream))) {
    for (const [customerId, partnerId] of await fold.storedPartners(customerIds)) stored.set(customerId, partnerId);
  }
  const rows = pending.map(({ row, registeredEarlier }) =>
    row.complete(row.partnerId ?? stored.get(row.customerId) ?? registeredEarlier ?? ''),
  );
  for (const customers of statementChunks(registrations)) await fold.insertCustomers(customers);
  for (const chunk of statementChunks(rows)) await fold.insertRows(chunk);
}
