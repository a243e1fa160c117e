import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { RebuildFold } from '../projection/projection-definition';
import type { CustomerPartner, PartnersByCustomer } from './partnered-rows';
import { statementChunks } from './statement-chunks';

/**
 * The most customers a rebuild keeps in memory for one projection before it stores them: at about
 * 150 bytes each, some 15 MB. The benchmark's 1M-event log registers 58,824.
 */
const MOST_PARTNERS_KEPT = 100_000;

type StoredPartners = PartnersByCustomer['storedPartners'];
type InsertCustomers = PartnersByCustomer['insertCustomers'];

/**
 * The partner of each customer a rebuild has seen registered, for a projection that stores it by
 * customer (the ledger, the feed, the activity log) and reads it back for each later row.
 *
 * Folded batch by batch, each batch's registrations land on pages all over that table, since the
 * customer's id is random, and each commit writes those pages again: on the benchmark's 1M-event
 * log about 2 s of a 21 s rebuild for the three tables. A rebuild is discarded whole if it stops
 * part-way (`rebuildTogether`) and no one resumes its build meanwhile (`markUnresumable`), so it
 * keeps them here and stores them once, sorted by customer, at
 * its end (`storeAll`), or sooner when `mostKept` are kept; from then on it reads the table first,
 * as a fold that stored them at once would.
 *
 * @example
 *   const partners = new RebuildPartners();
 *   await partners.register(registrations, insertCustomers); // each batch
 *   (await partners.partnersOf(customerIds, storedPartners)).get(customerId);
 *   await partners.storeAll(insertCustomers); // in `RebuildFold.finish`
 */
export class RebuildPartners {
  private readonly kept = new Map<string, string>();
  private storedAny = false;

  constructor(private readonly mostKept = MOST_PARTNERS_KEPT) {}

  /**
   * The partner of each of `customerIds` that was registered before: the stored one, else the first
   * one kept. At most 128 ids, as `storedPartners` takes.
   */
  async partnersOf(customerIds: readonly string[], storedPartners: StoredPartners): Promise<Map<string, string>> {
    // The generation's table is empty until the first `storeAll`.
    const partners = this.storedAny ? await storedPartners(customerIds) : new Map<string, string>();
    for (const customerId of customerIds) {
      if (partners.has(customerId)) continue;
      const partner = this.kept.get(customerId);
      if (partner !== undefined) partners.set(customerId, partner);
    }
    return partners;
  }

  /** Keeps the first partner registered for each customer; stores them all once `mostKept` are kept. */
  async register(customers: readonly CustomerPartner[], insertCustomers: InsertCustomers): Promise<void> {
    for (const { customerId, partnerId } of customers) {
      if (!this.kept.has(customerId)) this.kept.set(customerId, partnerId);
    }
    if (this.kept.size >= this.mostKept) await this.storeAll(insertCustomers);
  }

  /** Stores what is kept, sorted by customer (each page of the table written once), and forgets it. */
  async storeAll(insertCustomers: InsertCustomers): Promise<void> {
    const sorted = [...this.kept]
      .sort(([first], [second]) => (first < second ? -1 : first > second ? 1 : 0))
      .map(([customerId, partnerId]) => ({ customerId, partnerId }));
    for (const chunk of statementChunks(sorted)) await insertCustomers(chunk);
    this.kept.clear();
    this.storedAny = true;
  }
}

/**
 * `customers` as a rebuild reads and writes them: through `partners` when there are some (a
 * rebuild's fold), else as they are.
 */
export function keptByRebuild<Customers extends PartnersByCustomer>(customers: Customers, partners: RebuildPartners | undefined): Customers {
  if (!partners) return customers;
  return {
    ...customers,
    storedPartners: (customerIds: readonly string[]) => partners.partnersOf(customerIds, (ids) => customers.storedPartners(ids)),
    insertCustomers: (registered: readonly CustomerPartner[]) => partners.register(registered, (chunk) => customers.insertCustomers(chunk)),
  };
}

/**
 * `ProjectionDefinition.rebuildFold` for a projection that keeps each customer's partner
 * (`customersOf`): its batches fold with one `RebuildPartners`, and its end stores what that kept.
 *
 * @example
 *   rebuildFold: rebuildKeepingPartners(foldLedger, ledgerCustomers),
 */
export function rebuildKeepingPartners<Schema>(
  fold: (trx: Transaction<Schema>, events: readonly RecordedEvent[], partners: RebuildPartners) => Promise<void>,
  customersOf: (trx: Transaction<Schema>) => PartnersByCustomer,
): () => RebuildFold<Schema> {
  return () => {
    const partners = new RebuildPartners();
    return {
      applyBatch: (trx, events) => fold(trx, events, partners),
      finish: (trx) => partners.storeAll(customersOf(trx).insertCustomers),
    };
  };
}
