import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import { createKeyVaultTables } from './key-vault/key-vault.tables';
import { createLogBindingTable } from './log-binding';
import { createWebhookTables } from './webhooks/webhook.tables';

/** Kysely's own bookkeeping tables for the store migrations below. */
export const STORE_MIGRATION_TABLES = { migrationTableName: 'read_store_migrations', migrationLockTableName: 'read_store_migrations_lock' };

/**
 * The tables read models had before projections became units, and the checkpoint they shared:
 * `0003` adopts them as generation 1 of the three projections they split into.
 */
const UNVERSIONED_TABLES = {
  customers: ['customers_partner'],
  orders: ['orders_pending_fulfilment', 'orders_customer'],
  subscriptions: ['subscriptions_customer', 'subscriptions_due'],
} as const;
const UNVERSIONED_CHECKPOINT = 'read-models';

/**
 * Ordered migrations of the read store's own tables. A store written by older code migrates
 * forward with its rows: nothing here drops data.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const storeMigrations: Record<string, Migration> = {
  '0001_projection_checkpoints': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projection_checkpoints')
        .ifNotExists()
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('position', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
    },
  },
  '0002_projection_generations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projection_generations')
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('generation', 'integer', (column) => column.notNull())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('projection_generations_pk', ['name', 'generation'])
        .execute();
    },
  },
  '0003_adopt_unversioned_read_models': {
    async up(db: Kysely<unknown>) {
      const checkpoint = await sql<{ position: string }>`select position from projection_checkpoints where name = ${UNVERSIONED_CHECKPOINT}`.execute(db);
      const position = checkpoint.rows[0]?.position;
      const now = new Date().toISOString();
      for (const [table, indexes] of Object.entries(UNVERSIONED_TABLES)) {
        if (!(await baseTableExists(db, table))) continue;
        for (const index of indexes) await db.schema.dropIndex(index).ifExists().execute();
        await db.schema.alterTable(table).renameTo(`${table}__g1`).execute();
        await sql`insert into projection_generations (name, generation, version, status, created_at) values (${table}, 1, 1, 'active', ${now})`.execute(db);
        if (position !== undefined) {
          await sql`insert into projection_checkpoints (name, position, updated_at) values (${`${table}@g1`}, ${position}, ${now})`.execute(db);
        }
      }
      await sql`delete from projection_checkpoints where name = ${UNVERSIONED_CHECKPOINT}`.execute(db);
    },
  },
  '0004_key_vault': { up: createKeyVaultTables },
  '0005_webhooks': { up: createWebhookTables },
  '0006_log_binding': { up: createLogBindingTable },
  '0007_projection_deferred_indexes': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projection_deferred_indexes')
        .ifNotExists()
        .addColumn('index_name', 'text', (column) => column.primaryKey())
        .addColumn('projection', 'text', (column) => column.notNull())
        .addColumn('generation', 'integer', (column) => column.notNull())
        .addColumn('definition', 'text', (column) => column.notNull())
        .execute();
    },
  },
  '0008_projection_unresumable_builds': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projection_unresumable_builds')
        .ifNotExists()
        .addColumn('projection', 'text', (column) => column.notNull())
        .addColumn('generation', 'integer', (column) => column.notNull())
        .addPrimaryKeyConstraint('projection_unresumable_builds_pk', ['projection', 'generation'])
        .execute();
    },
  },
};

/**
 * The schema Kysely's Migrator must keep its bookkeeping in. Without one it looks for its tables in
 * every schema of a PostgreSQL database, finds another store's and never creates its own.
 */
export async function migrationTableSchema(db: Kysely<unknown>): Promise<{ migrationTableSchema?: string }> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return {};
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return { migrationTableSchema: rows[0]!.schema };
}

/** Whether `name` is a table (not a view) in the schema this connection works in. */
async function baseTableExists(db: Kysely<unknown>, name: string): Promise<boolean> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ found: number }>`
      select 1 as found from information_schema.tables
      where table_schema = current_schema() and table_name = ${name} and table_type = 'BASE TABLE'`.execute(db);
    return rows.length > 0;
  }
  const { rows } = await sql<{ found: number }>`select 1 as found from sqlite_master where type = 'table' and name = ${name}`.execute(db);
  return rows.length > 0;
}
