import type { CustomerPartner, PartnersByCustomer } from './partnered-rows';
import { keptByRebuild, RebuildPartners } from './rebuild-partners';

/** A customers table in memory: inserts keep a stored customer as it is, as the projections' do. */
function customersTable(): PartnersByCustomer & { inserts: CustomerPartner[][]; reads: string[][] } {
  const stored = new Map<string, string>();
  const inserts: CustomerPartner[][] = [];
  const reads: string[][] = [];
  return {
    inserts,
    reads,
    storedPartners: async (customerIds) => {
      reads.push([...customerIds]);
      return new Map(customerIds.filter((id) => stored.has(id)).map((id) => [id, stored.get(id)!]));
    },
    insertCustomers: async (customers) => {
      inserts.push([...customers]);
      for (const { customerId, partnerId } of customers) if (!stored.has(customerId)) stored.set(customerId, partnerId);
    },
  };
}

describe('RebuildPartners', () => {
  it('answers from memory, the first registration of a customer winning, and reads and writes no table until it stores', async () => {
    const table = customersTable();
    const customers = keptByRebuild(table, new RebuildPartners());

    await customers.insertCustomers([{ customerId: 'c-2', partnerId: 'partner-a' }]);
    await customers.insertCustomers([
      { customerId: 'c-1', partnerId: 'partner-b' },
      { customerId: 'c-2', partnerId: 'partner-b' },
    ]);

    expect(await customers.storedPartners(['c-1', 'c-2', 'c-3'])).toEqual(new Map([['c-1', 'partner-b'], ['c-2', 'partner-a']]));
    expect(table.inserts).toEqual([]);
    expect(table.reads).toEqual([]);
  });

  it('stores what it keeps sorted by customer in statement-sized chunks, and forgets it', async () => {
    const table = customersTable();
    const partners = new RebuildPartners();
    const ids = Array.from({ length: 200 }, (_, index) => `c-${String((index * 7919) % 1000).padStart(3, '0')}`);
    await partners.register(ids.map((customerId) => ({ customerId, partnerId: `partner-of-${customerId}` })), table.insertCustomers);

    await partners.storeAll(table.insertCustomers);

    expect(table.inserts.map((chunk) => chunk.length)).toEqual([128, 64, 8]);
    expect(table.inserts.flat().map(({ customerId }) => customerId)).toEqual([...ids].sort());
    await partners.storeAll(table.insertCustomers);
    expect(table.inserts.flat()).toHaveLength(200);
  });

  it('stores them once it keeps the most it may, then reads the table first: a customer stored keeps its partner when registered again', async () => {
    const table = customersTable();
    const customers = keptByRebuild(table, new RebuildPartners(3));

    await customers.insertCustomers([
      { customerId: 'c-3', partnerId: 'partner-a' },
      { customerId: 'c-1', partnerId: 'partner-a' },
    ]);
    expect(table.inserts).toEqual([]);
    await customers.insertCustomers([{ customerId: 'c-2', partnerId: 'partner-b' }]);
    expect(table.inserts.flat().map(({ customerId }) => customerId)).toEqual(['c-1', 'c-2', 'c-3']);

    await customers.insertCustomers([
      { customerId: 'c-1', partnerId: 'partner-b' },
      { customerId: 'c-4', partnerId: 'partner-b' },
    ]);

    expect(await customers.storedPartners(['c-1', 'c-2', 'c-4', 'c-5'])).toEqual(
      new Map([['c-1', 'partner-a'], ['c-2', 'partner-b'], ['c-4', 'partner-b']]),
    );
    expect(table.reads).toEqual([['c-1', 'c-2', 'c-4', 'c-5']]);
  });

  it('leaves the table’s own reads and writes as they are without a rebuild', () => {
    const table = customersTable();
    expect(keptByRebuild(table, undefined)).toBe(table);
  });
});
