import type { RecordedEvent } from '@csp/event-store';
import { foldPartneredRows, type CustomerPartner } from './partnered-rows';

interface Row {
  id: string;
  partner: string;
}

/** Registrations are `Registered:<customer>:<partner>`; rows `Row:<id>:<customer>[:<partner named by the event>]`. */
function event(spec: string): RecordedEvent {
  return { type: spec, data: {} } as unknown as RecordedEvent;
}

async function fold(specs: string[], stored: Record<string, string> = {}) {
  const inserted: { customers: CustomerPartner[]; rows: Row[]; lookedUp: string[] } = { customers: [], rows: [], lookedUp: [] };
  await foldPartneredRows<Row>(specs.map(event), {
    registrationOf: ({ type }) => {
      const [kind, customerId, partnerId] = type.split(':');
      return kind === 'Registered' ? { customerId: customerId!, partnerId: partnerId! } : undefined;
    },
    rowsOf: ({ type }) => {
      const [kind, id, customerId, partnerId] = type.split(':');
      if (kind !== 'Row') return [];
      return [{ customerId: customerId!, ...(partnerId ? { partnerId } : {}), complete: (partner) => ({ id: id!, partner }) }];
    },
    storedPartners: async (customerIds) => {
      inserted.lookedUp.push(...customerIds);
      return new Map(customerIds.filter((id) => stored[id]).map((id) => [id, stored[id]!]));
    },
    insertCustomers: async (customers) => void inserted.customers.push(...customers),
    insertRows: async (rows) => void inserted.rows.push(...rows),
  });
  return inserted;
}

describe('foldPartneredRows', () => {
  it('gives each row the partner a folding of one event at a time would', async () => {
    const result = await fold(
      ['Row:early:c1', 'Registered:c1:p1', 'Row:late:c1', 'Registered:c2:p-new', 'Row:stored-wins:c2', 'Row:named:c3:p9', 'Row:unknown:c4'],
      { c2: 'p-stored' },
    );

    expect(result.rows).toEqual([
      // Before its registration: no partner yet.
      { id: 'early', partner: '' },
      { id: 'late', partner: 'p1' },
      // A stored registration is kept: the later one's insert does nothing.
      { id: 'stored-wins', partner: 'p-stored' },
      { id: 'named', partner: 'p9' },
      { id: 'unknown', partner: '' },
    ]);
    expect(result.customers).toEqual([
      { customerId: 'c1', partnerId: 'p1' },
      { customerId: 'c2', partnerId: 'p-new' },
    ]);
    // One read for the batch, and none for a row that names its partner.
    expect(result.lookedUp.sort()).toEqual(['c1', 'c2', 'c4']);
  });

  it('does not look up a customer whose stream begins in the batch, and looks up one registered again', async () => {
    const registration = (customerId: string, partnerId: string, revision: bigint) =>
      ({ type: `Registered:${customerId}:${partnerId}`, streamName: `customer-${customerId}`, revision, data: {} }) as unknown as RecordedEvent;
    const lookedUp: string[] = [];
    const rows: Row[] = [];
    await foldPartneredRows<Row>(
      [registration('new', 'p-new', 0n), event('Row:of-new:new'), registration('again', 'p-again', 1n), event('Row:of-again:again')],
      {
        registrationOf: ({ type }) => {
          const [kind, customerId, partnerId] = type.split(':');
          return kind === 'Registered' ? { customerId: customerId!, partnerId: partnerId! } : undefined;
        },
        rowsOf: ({ type }) => {
          const [kind, id, customerId] = type.split(':');
          return kind === 'Row' ? [{ customerId: customerId!, complete: (partner) => ({ id: id!, partner }) }] : [];
        },
        storedPartners: async (customerIds) => {
          lookedUp.push(...customerIds);
          return new Map(customerIds.filter((id) => id === 'again').map((id) => [id, 'p-stored']));
        },
        insertCustomers: async () => undefined,
        insertRows: async (folded) => void rows.push(...folded),
      },
    );

    expect(lookedUp).toEqual(['again']);
    expect(rows).toEqual([
      { id: 'of-new', partner: 'p-new' },
      { id: 'of-again', partner: 'p-stored' },
    ]);
  });

  it('inserts and looks up in chunks of a few lengths, so the statements take few shapes', async () => {
    const specs = Array.from({ length: 450 }, (_, index) => `Row:r${index}:c${index % 300}`);
    const insertedChunks: number[] = [];
    const lookupChunks: number[] = [];
    await foldPartneredRows<Row>(specs.map(event), {
      registrationOf: () => undefined,
      rowsOf: ({ type }) => {
        const [, , customerId] = type.split(':');
        return [{ customerId: customerId!, complete: (partner) => ({ id: type, partner }) }];
      },
      storedPartners: async (customerIds) => {
        lookupChunks.push(customerIds.length);
        return new Map();
      },
      insertCustomers: async () => undefined,
      insertRows: async (rows) => void insertedChunks.push(rows.length),
    });
    expect(insertedChunks).toEqual([128, 128, 128, 64, 2]);
    // 300 distinct customers to look up.
    expect(lookupChunks).toEqual([128, 128, 32, 12]);
  });
});
