import type { CustomerEvent } from '@csp/domain/customer/customer.events';
import { nameKey } from '@csp/domain/shared/name-key';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { multiRowStatement } from '../multi-row-statement';
import { storableText } from '../storable-text';

export interface CustomersTable {
  id: string;
  partner_id: string;
  company_name: string;
  domain: string;
  country: string;
  registered_at: string;
  /** `nameKey(domain)`: lookups and uniqueness compare this, not the text as written. */
  domain_key: string;
  /** `nameKey(company_name)`. */
  company_name_key: string;
}

export interface CustomersSchema {
  customers: CustomersTable;
}

/**
 * The customer directory: who the partners' customers are, found by id, domain or name. Version 2
 * adds the normalised keys (NFC, case folded) that lookups compare; the bump refolds every row.
 */
export const customersProjection: ProjectionDefinition<CustomersSchema> = {
  name: 'customers',
  version: 2,
  handles: ['CustomerRegistered'],
  tables: ['customers'],
  migrations: (table) => ({
    '0001_create_customers': {
      async up(db) {
        await db.schema
          .createTable(table('customers'))
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .addColumn('company_name', 'text', (column) => column.notNull())
          .addColumn('domain', 'text', (column) => column.notNull())
          .addColumn('country', 'text', (column) => column.notNull())
          .addColumn('registered_at', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex(`${table('customers')}_partner`)
          .ifNotExists()
          .on(table('customers'))
          .columns(['partner_id', 'domain'])
          .execute();
      },
    },
    '0002_add_lookup_keys': {
      async up(db) {
        await db.schema.alterTable(table('customers')).addColumn('domain_key', 'text', (column) => column.notNull().defaultTo('')).execute();
        await db.schema
          .alterTable(table('customers'))
          .addColumn('company_name_key', 'text', (column) => column.notNull().defaultTo(''))
          .execute();
        await db.schema.createIndex(`${table('customers')}_domain_key`).ifNotExists().on(table('customers')).column('domain_key').execute();
        await db.schema
          .createIndex(`${table('customers')}_partner_name_key`)
          .ifNotExists()
          .on(table('customers'))
          .columns(['partner_id', 'company_name_key'])
          .execute();
      },
    },
  }),
  apply(trx, recorded) {
    return foldCustomers(trx, [recorded]);
  },
  applyBatch: foldCustomers,
};

const insertCustomers = multiRowStatement<CustomersSchema, CustomersTable>(
  { id: true, partner_id: true, company_name: true, domain: true, country: true, registered_at: true, domain_key: true, company_name_key: true },
  (trx, rows) =>
    trx
      .insertInto('customers')
      .values(rows)
      .onConflict((conflict) => conflict.column('id').doNothing()),
);

/** A batch's registrations in a few multi-row inserts; a customer registered twice keeps its first row. */
async function foldCustomers(trx: Transaction<CustomersSchema>, recorded: readonly RecordedEvent[]): Promise<void> {
  const rows: CustomersTable[] = [];
  for (const { type, data } of recorded) {
    const event = { type, data } as CustomerEvent;
    if (event.type !== 'CustomerRegistered') continue;
    const { customerId, partnerId, companyName, domain, country, registeredAt } = event.data;
    rows.push({
      id: customerId,
      partner_id: partnerId,
      company_name: storableText(companyName),
      domain: storableText(domain),
      country,
      registered_at: registeredAt,
      domain_key: storableText(nameKey(domain)),
      company_name_key: storableText(nameKey(companyName)),
    });
  }
  await insertCustomers(trx, rows);
}
