import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import type { DownloadLinkIssued, DownloadLinkUsed, DownloadStarted, KeyRevealed } from '@csp/domain/software/software.events';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { multiRowStatement } from '../multi-row-statement';
import type { CustomerPartner, PartnersByCustomer } from '../partnered-rows';
import { keptByRebuild, rebuildKeepingPartners, type RebuildPartners } from '../rebuild-partners';
import { storableText } from '../storable-text';

export type ActivityAction = 'key_revealed' | 'download_started' | 'download_link_issued' | 'download_link_used';

/** The software event each action of the activity log records. */
export const ACTIVITY_ACTIONS: Readonly<Record<string, ActivityAction>> = {
  KeyRevealed: 'key_revealed',
  DownloadStarted: 'download_started',
  DownloadLinkIssued: 'download_link_issued',
  DownloadLinkUsed: 'download_link_used',
};

export interface ActivityLogTable {
  /** The event's id: one row per recorded access, however often the log is folded. */
  id: string;
  occurred_at: string;
  action: ActivityAction;
  /** Who did it, from the event's metadata (`link:<linkId>` for the holder of a shared link). */
  user_id: string;
  user_name: string | null;
  customer_id: string;
  /** The customer's partner: a partner reads only its own customers' activity. */
  partner_id: string;
  software_id: string;
  product_title: string;
}

/** Which partner each customer belongs to: software events name the customer only. */
export interface ActivityLogCustomersTable {
  customer_id: string;
  partner_id: string;
}

export interface ActivityLogSchema {
  activity_log: ActivityLogTable;
  activity_log_customers: ActivityLogCustomersTable;
}

type SoftwareAccess = KeyRevealed | DownloadStarted | DownloadLinkIssued | DownloadLinkUsed;

function occurredAt(event: SoftwareAccess): string {
  switch (event.type) {
    case 'KeyRevealed':
      return event.data.revealedAt;
    case 'DownloadStarted':
      return event.data.startedAt;
    case 'DownloadLinkIssued':
      return event.data.issuedAt;
    case 'DownloadLinkUsed':
      return event.data.usedAt;
  }
}

/**
 * The compliance activity log (SPEC "Activity log"): who revealed a key, started a download, issued
 * or used a shared link, when, for which customer and product. Rows are only ever inserted: the log is
 * append-only and so is this. Key text never reaches it (no event it folds carries any).
 */
export const activityLogProjection: ProjectionDefinition<ActivityLogSchema> = {
  name: 'activity-log',
  version: 1,
  handles: ['CustomerRegistered', ...Object.keys(ACTIVITY_ACTIONS)],
  tables: ['activity_log', 'activity_log_customers'],
  migrations: (table) => ({
    '0001_create_activity_log': {
      async up(db) {
        await db.schema
          .createTable(table('activity_log_customers'))
          .ifNotExists()
          .addColumn('customer_id', 'text', (column) => column.primaryKey())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createTable(table('activity_log'))
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('occurred_at', 'text', (column) => column.notNull())
          .addColumn('action', 'text', (column) => column.notNull())
          .addColumn('user_id', 'text', (column) => column.notNull())
          .addColumn('user_name', 'text')
          .addColumn('customer_id', 'text', (column) => column.notNull())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .addColumn('software_id', 'text', (column) => column.notNull())
          .addColumn('product_title', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex(`${table('activity_log')}_partner_time`)
          .ifNotExists()
          .on(table('activity_log'))
          .columns(['partner_id', 'occurred_at', 'id'])
          .execute();
        await db.schema
          .createIndex(`${table('activity_log')}_partner_customer_time`)
          .ifNotExists()
          .on(table('activity_log'))
          .columns(['partner_id', 'customer_id', 'occurred_at'])
          .execute();
      },
    },
  }),
  apply(trx, recorded) {
    return foldActivityLog(trx, [recorded]);
  },
  applyBatch: (trx, events) => foldActivityLog(trx, events),
  rebuildFold: rebuildKeepingPartners(foldActivityLog, activityLogCustomers),
};

const insertCustomers = multiRowStatement<ActivityLogSchema, ActivityLogCustomersTable>({ customer_id: true, partner_id: true }, (trx, rows) =>
  trx
    .insertInto('activity_log_customers')
    .values(rows)
    .onConflict((conflict) => conflict.column('customer_id').doNothing()),
);

/**
 * Registrations are written together, in a few multi-row inserts: before the next access to a key
 * or a download (which reads its customer's partner) and at the end of the batch; a rebuild keeps
 * them in memory until its end (`RebuildPartners`).
 */
async function foldActivityLog(trx: Transaction<ActivityLogSchema>, recorded: readonly RecordedEvent[], rebuildPartners?: RebuildPartners): Promise<void> {
  const customers = keptByRebuild(activityLogCustomers(trx), rebuildPartners);
  let registered: CustomerPartner[] = [];
  for (const event of recorded) {
    if (event.type === 'CustomerRegistered') {
      const { customerId, partnerId } = (event as unknown as { data: CustomerRegistered['data'] }).data;
      registered.push({ customerId, partnerId });
      continue;
    }
    const action = ACTIVITY_ACTIONS[event.type];
    if (!action) continue;
    await customers.insertCustomers(registered);
    registered = [];
    await recordAccess(trx, event, action, customers);
  }
  await customers.insertCustomers(registered);
}

/** The partner of each customer, as the activity log keeps it (`activity_log_customers`). */
function activityLogCustomers(trx: Transaction<ActivityLogSchema>): PartnersByCustomer {
  return {
    storedPartners: async (customerIds) => {
      const rows = await trx.selectFrom('activity_log_customers').selectAll().where('customer_id', 'in', customerIds).execute();
      return new Map(rows.map((row) => [row.customer_id, row.partner_id]));
    },
    insertCustomers: (customers) =>
      insertCustomers(
        trx,
        customers.map(({ customerId, partnerId }) => ({ customer_id: customerId, partner_id: partnerId })),
      ),
  };
}

async function recordAccess(
  trx: Transaction<ActivityLogSchema>,
  recorded: RecordedEvent,
  action: ActivityLogTable['action'],
  customers: PartnersByCustomer,
): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as unknown as SoftwareAccess;
  const partners = await customers.storedPartners([event.data.customerId]);
  await trx
    .insertInto('activity_log')
    .values({
      id: recorded.id,
      occurred_at: occurredAt(event),
      action,
      user_id: storableText(metadataText(recorded, 'userId') ?? 'unknown'),
      user_name: nullableText(metadataText(recorded, 'userName')),
      customer_id: event.data.customerId,
      // A customer the fold never saw registered belongs to no partner: nobody's reader sees the row.
      partner_id: partners.get(event.data.customerId) ?? '',
      software_id: event.data.softwareId,
      product_title: storableText(event.data.productTitle),
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
}

function metadataText(recorded: RecordedEvent, name: string): string | undefined {
  const value = recorded.metadata[name];
  return typeof value === 'string' ? value : undefined;
}

function nullableText(text: string | undefined): string | null {
  return text === undefined ? null : storableText(text);
}
