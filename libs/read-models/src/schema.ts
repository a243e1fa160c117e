import type { Kysely } from 'kysely';
import type { ActivityLogSchema } from './projections/activity-log/activity-log.projection';
import type { KeyVaultSchema } from './key-vault/key-vault.tables';
import type { IntegrationEventsSchema } from './projections/integration-events/integration-events.projection';
import type { WebhookSchema } from './webhooks/webhook.tables';
import type { CustomersSchema } from './projections/customers/customers.projection';
import type { LedgerSchema } from './projections/ledger/ledger.projection';
import type { OrdersSchema } from './projections/orders/orders.projection';
import type { SubscriptionsSchema } from './projections/subscriptions/subscriptions.projection';

export type { CustomersTable } from './projections/customers/customers.projection';
export type { OrdersTable } from './projections/orders/orders.projection';
export type { SubscriptionsTable } from './projections/subscriptions/subscriptions.projection';

export interface ProjectionCheckpointsTable {
  /** `<projection>@g<generation>`: each generation folds the log on its own. */
  name: string;
  /** The log position string (`commit.prepare`). */
  position: string;
  updated_at: string;
}

export interface ProjectionGenerationsTable {
  name: string;
  generation: number;
  /** The projection's `version` this generation was built with. */
  version: number;
  /** `active` answers queries through the views; `building` folds from zero beside it. */
  status: string;
  created_at: string;
}

/** A secondary index of a generation being built, dropped until its fold is done (see `deferSecondaryIndexes`). */
export interface ProjectionDeferredIndexesTable {
  index_name: string;
  projection: string;
  generation: number;
  /** The `CREATE INDEX` statement that makes it again. */
  definition: string;
}

/**
 * A generation a rebuild folds with a fold that keeps part of its rows in memory until its end
 * (`RebuildFold`): its tables are incomplete until the row is gone, so no one may resume it from
 * its checkpoint (see `ProjectionGenerations.markUnresumable`).
 */
export interface ProjectionUnresumableBuildsTable {
  projection: string;
  generation: number;
}

/** Tables of the read store itself, beside the projections' own. */
export interface ReadStoreSchema {
  projection_checkpoints: ProjectionCheckpointsTable;
  projection_generations: ProjectionGenerationsTable;
  projection_deferred_indexes: ProjectionDeferredIndexesTable;
  projection_unresumable_builds: ProjectionUnresumableBuildsTable;
}

/**
 * What queries see: the store's tables and every projection's logical tables (views on the active
 * generation). Portable between SQLite and PostgreSQL: text for instants, ids and JSON, integers for flags.
 */
export type ReadModelSchema = ReadStoreSchema & CustomersSchema & OrdersSchema & SubscriptionsSchema & LedgerSchema & ActivityLogSchema & KeyVaultSchema & IntegrationEventsSchema & WebhookSchema;

/** A connection to the read store, on either dialect. */
export type ReadModelDb = Kysely<ReadModelSchema>;
