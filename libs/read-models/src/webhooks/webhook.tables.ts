import type { Kysely } from 'kysely';

/**
 * A partner's webhook endpoint and where its delivery stands. Configuration, not a projection: kept
 * in the read store's own tables, which no rebuild drops, so endpoints, secrets and delivery cursors
 * survive a rebuild of the feed.
 */
export interface WebhookEndpointsTable {
  id: string;
  partner_id: string;
  url: string;
  /** JSON array of integration-event types; `[]` means every type. */
  types: string;
  description: string | null;
  /** `enabled`, or `disabled` once a delivery kept failing for the whole retry window. */
  status: string;
  disabled_reason: string | null;
  disabled_at: string | null;
  /** The signing secret's 32 bytes, wrapped under a key derived from KEY_ENCRYPTION_KEY. */
  secret: string;
  /** The secret before the last rotation, still signing beside the new one until it expires. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  /**
   * The delivery checkpoint: the last event delivered (or skipped by a filter), as position and
   * sequence. Events after it are delivered in this order, one at a time.
   */
  cursor_commit: string | number;
  cursor_prepare: string | number;
  cursor_sequence: number;
  created_at: string;
}

/** One event's delivery to one endpoint: its attempts and how it ended. */
export interface WebhookDeliveriesTable {
  endpoint_id: string;
  event_id: string;
  event_type: string;
  position: string;
  /** The event's place in the feed, to list deliveries in log order. */
  position_commit: string | number;
  position_prepare: string | number;
  sequence: number;
  /** `pending` (being tried), `delivered`, or `failed` (the endpoint was disabled on it). */
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  /** 1 while an owner's request to deliver this one event again waits to be carried out. */
  redelivery_requested: number;
}

export interface WebhookSchema {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

/** `0005_webhooks` of the store migrations. */
export async function createWebhookTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('partner_id', 'text', (column) => column.notNull())
    .addColumn('url', 'text', (column) => column.notNull())
    .addColumn('types', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('disabled_at', 'text')
    .addColumn('secret', 'text', (column) => column.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'text')
    .addColumn('cursor_commit', 'bigint', (column) => column.notNull())
    .addColumn('cursor_prepare', 'bigint', (column) => column.notNull())
    .addColumn('cursor_sequence', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_partner').ifNotExists().on('webhook_endpoints').columns(['partner_id', 'created_at']).execute();
  await db.schema
    .createTable('webhook_deliveries')
    .ifNotExists()
    .addColumn('endpoint_id', 'text', (column) => column.notNull())
    .addColumn('event_id', 'text', (column) => column.notNull())
    .addColumn('event_type', 'text', (column) => column.notNull())
    .addColumn('position', 'text', (column) => column.notNull())
    .addColumn('position_commit', 'bigint', (column) => column.notNull())
    .addColumn('position_prepare', 'bigint', (column) => column.notNull())
    .addColumn('sequence', 'integer', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('first_attempt_at', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('next_attempt_at', 'text')
    .addColumn('delivered_at', 'text')
    .addColumn('redelivery_requested', 'integer', (column) => column.notNull())
    .addPrimaryKeyConstraint('webhook_deliveries_pk', ['endpoint_id', 'event_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_order')
    .ifNotExists()
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'position_commit', 'position_prepare', 'sequence'])
    .execute();
}
