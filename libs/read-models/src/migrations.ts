import type { Kysely } from 'kysely';
import type { ReadModelSchema } from './schema';

/**
 * Creates the read-model tables when missing. Written with Kysely's builder so it runs on SQLite and PostgreSQL alike.
 *
 * `CREATE ... IF NOT EXISTS` does not make two concurrent runs safe on PostgreSQL (both can see a
 * name missing; the slower one then fails on a catalogue unique index). Pass a transaction that
 * holds a lock shared by every process that migrates the same store, as `openPostgresReadModels`
 * does; a Kysely `Transaction` is a `Kysely`. SQLite serialises writers itself.
 */
export async function migrateReadModels(db: Kysely<ReadModelSchema>): Promise<void> {
  await db.schema
    .createTable('customers')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('partner_id', 'text', (column) => column.notNull())
    .addColumn('company_name', 'text', (column) => column.notNull())
    .addColumn('domain', 'text', (column) => column.notNull())
    .addColumn('country', 'text', (column) => column.notNull())
    .addColumn('registered_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('customers_partner').ifNotExists().on('customers').columns(['partner_id', 'domain']).execute();

  await db.schema
    .createTable('orders')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('customer_id', 'text', (column) => column.notNull())
    .addColumn('partner_id', 'text', (column) => column.notNull())
    .addColumn('purchased_at', 'text', (column) => column.notNull())
    .addColumn('pending_fulfilment', 'integer', (column) => column.notNull())
    .addColumn('state', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('orders_pending_fulfilment').ifNotExists().on('orders').column('pending_fulfilment').execute();
  await db.schema.createIndex('orders_customer').ifNotExists().on('orders').columns(['customer_id', 'purchased_at']).execute();

  await db.schema
    .createTable('subscriptions')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('customer_id', 'text', (column) => column.notNull())
    .addColumn('partner_id', 'text', (column) => column.notNull())
    .addColumn('order_id', 'text', (column) => column.notNull())
    .addColumn('friendly_name', 'text', (column) => column.notNull())
    .addColumn('purchased_at', 'text', (column) => column.notNull())
    .addColumn('legacy', 'integer', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('next_due_at', 'text')
    .addColumn('state', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('subscriptions_customer')
    .ifNotExists()
    .on('subscriptions')
    .columns(['customer_id', 'legacy', 'purchased_at'])
    .execute();
  await db.schema.createIndex('subscriptions_due').ifNotExists().on('subscriptions').column('next_due_at').execute();

  await db.schema
    .createTable('projection_checkpoints')
    .ifNotExists()
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('position', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
}

/** Empties every read model and checkpoint: a rebuild then folds the log again from zero. */
export async function truncateReadModels(db: Kysely<ReadModelSchema>): Promise<void> {
  for (const table of ['customers', 'orders', 'subscriptions', 'projection_checkpoints'] as const) {
    await db.deleteFrom(table).execute();
  }
}
