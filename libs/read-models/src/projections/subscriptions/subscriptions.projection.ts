import { nextLifecycleDueAt, subscriptionDecider, type SubscriptionState } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream, type SubscriptionEvent } from '@csp/domain/subscription/subscription.events';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { reusableStatement } from '../../reusable-statement';
import { multiRowStatement } from '../multi-row-statement';
import { idsPossiblyStored } from '../rows-stored-before';
import { statementChunks } from '../statement-chunks';
import { storableText } from '../storable-text';
import { storedSubscriptionState, subscriptionStateFromStored } from './subscription-state.storage';

export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  partner_id: string;
  order_id: string;
  friendly_name: string;
  purchased_at: string;
  /** 1 when purchased before 2021-10-14: not returned by the subscriptions list. */
  legacy: number;
  status: string;
  /** When the lifecycle scheduler must next look at it; null when never again. */
  next_due_at: string | null;
  /** The subscription as the domain's decider folds it, as JSON (see `storedSubscriptionState`). */
  state: string;
}

export interface SubscriptionsSchema {
  subscriptions: SubscriptionsTable;
}

const SUBSCRIPTION_EVENTS: readonly SubscriptionEvent['type'][] = [
  'SubscriptionStarted',
  'InstallmentBilled',
  'AutoRenewChanged',
  'SubscriptionCancelled',
  'InstallmentVoided',
  'FutureInstallmentsVoided',
  'SubscriptionRenewed',
  'SubscriptionExpired',
];

/** Subscriptions folded with the domain's own `evolve`, so the read side cannot drift from the rules. */
export const subscriptionsProjection: ProjectionDefinition<SubscriptionsSchema> = {
  name: 'subscriptions',
  version: 1,
  handles: SUBSCRIPTION_EVENTS,
  tables: ['subscriptions'],
  migrations: (table) => ({
    '0001_create_subscriptions': {
      async up(db) {
        await db.schema
          .createTable(table('subscriptions'))
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
          .createIndex(`${table('subscriptions')}_customer`)
          .ifNotExists()
          .on(table('subscriptions'))
          .columns(['customer_id', 'legacy', 'purchased_at'])
          .execute();
        await db.schema
          .createIndex(`${table('subscriptions')}_due`)
          .ifNotExists()
          .on(table('subscriptions'))
          .column('next_due_at')
          .execute();
      },
    },
  }),
  apply(trx, recorded) {
    return foldSubscriptions(trx, [recorded]);
  },
  applyBatch: foldSubscriptions,
};

const upsertSubscriptions = multiRowStatement<SubscriptionsSchema, SubscriptionsTable>(
  {
    id: true,
    customer_id: true,
    partner_id: true,
    order_id: true,
    friendly_name: true,
    purchased_at: true,
    legacy: true,
    status: true,
    next_due_at: true,
    state: true,
  },
  (trx, rows) =>
    trx
      .insertInto('subscriptions')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('id').doUpdateSet((update) => ({
          status: update.ref('excluded.status'),
          next_due_at: update.ref('excluded.next_due_at'),
          state: update.ref('excluded.state'),
        })),
      ),
);

const selectSubscriptionStates = reusableStatement(
  (ids: readonly string[]) => ids,
  (trx: Transaction<SubscriptionsSchema>, ids) => trx.selectFrom('subscriptions').select(['id', 'state']).where('id', 'in', ids),
  (ids) => ids.length,
);

/**
 * Each subscription the batch touches is read once (not at all when it starts in the batch), folded
 * in memory through the batch's events in order, and written once: a cancellation's refund and
 * eleven voided installments are one read and one write, not twelve of each; the batch's
 * subscriptions, new or stored, go in a few multi-row upserts that change only what the fold changes.
 */
async function foldSubscriptions(trx: Transaction<SubscriptionsSchema>, recorded: readonly RecordedEvent[]): Promise<void> {
  const events = recorded.map((event) => ({ type: event.type, data: event.data }) as SubscriptionEvent);
  const ids = [...new Set(events.map((event) => event.data.subscriptionId))];
  const stored = new Map<string, SubscriptionState>();
  for (const chunk of statementChunks(idsPossiblyStored(recorded, ids, subscriptionStream))) {
    const { rows } = await selectSubscriptionStates(trx, chunk);
    for (const row of rows) stored.set(row.id, subscriptionStateFromStored(row.state));
  }
  const folded = new Map<string, Exclude<SubscriptionState, { status: 'none' }>>();
  for (const event of events) {
    const id = event.data.subscriptionId;
    const before = folded.get(id) ?? stored.get(id) ?? subscriptionDecider.initialState();
    const after = subscriptionDecider.evolve(before, event);
    // An event before the subscription exists leaves no row, as if it had not been folded.
    if (after.status !== 'none') folded.set(id, after);
  }
  const rows = [...folded].map(([id, after]): SubscriptionsTable => {
    const profile = after.profile;
    return {
      id,
      customer_id: profile.customerId,
      partner_id: profile.partnerId,
      order_id: profile.orderId,
      friendly_name: storableText(profile.friendlyName),
      purchased_at: profile.purchasedAt,
      legacy: profile.legacy ? 1 : 0,
      status: after.status,
      next_due_at: nextLifecycleDueAt(after) ?? null,
      state: storedSubscriptionState(after),
    };
  });
  await upsertSubscriptions(trx, rows);
}
