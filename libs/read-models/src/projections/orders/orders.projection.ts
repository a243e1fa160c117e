import { evolveOrder, type OrderState } from '@csp/domain/order/order.decider';
import type { OrderEvent } from '@csp/domain/order/order.events';
import type { SubscriptionCancelled, SubscriptionStarted } from '@csp/domain/subscription/subscription.events';
import type { ProjectionDefinition } from '../../projection/projection-definition';

export interface OrdersTable {
  id: string;
  customer_id: string;
  partner_id: string;
  purchased_at: string;
  /** Subscription lines whose subscription has not started yet; > 0 means fulfilment is still owed. */
  pending_fulfilment: number;
  /**
   * The order as the domain's `evolveOrder` folds it, plus `subscriptionLines`: per subscription id,
   * `provisioned` once it started and `cancelled` once cancelled (absent: fulfilment still owed), as JSON.
   */
  state: string;
}

type SubscriptionLines = Record<string, 'provisioned' | 'cancelled'>;
type StoredOrder = OrderState & { subscriptionLines?: SubscriptionLines };

export interface OrdersSchema {
  orders: OrdersTable;
}

/**
 * Orders as the domain folds them, and what fulfilment still owes: each `SubscriptionStarted`
 * (exactly one per subscription stream) settles one subscription line of its order, and a
 * `SubscriptionCancelled` marks its line cancelled, so the order's status can follow its lines.
 * Version 2 added the subscription lines to `state`.
 */
export const ordersProjection: ProjectionDefinition<OrdersSchema> = {
  name: 'orders',
  version: 2,
  handles: ['OrderPlaced', 'PerpetualLineCancelled', 'SubscriptionStarted', 'SubscriptionCancelled'],
  tables: ['orders'],
  migrations: (table) => ({
    '0001_create_orders': {
      async up(db) {
        await db.schema
          .createTable(table('orders'))
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('customer_id', 'text', (column) => column.notNull())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .addColumn('purchased_at', 'text', (column) => column.notNull())
          .addColumn('pending_fulfilment', 'integer', (column) => column.notNull())
          .addColumn('state', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex(`${table('orders')}_pending_fulfilment`)
          .ifNotExists()
          .on(table('orders'))
          .column('pending_fulfilment')
          .execute();
        await db.schema
          .createIndex(`${table('orders')}_customer`)
          .ifNotExists()
          .on(table('orders'))
          .columns(['customer_id', 'purchased_at'])
          .execute();
      },
    },
  }),
  async apply(trx, recorded) {
    const event = { type: recorded.type, data: recorded.data } as unknown as OrderEvent | SubscriptionStarted | SubscriptionCancelled;
    const orderId = event.data.orderId;
    const row = await trx.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirst();
    const before: StoredOrder = row ? (JSON.parse(row.state) as StoredOrder) : { status: 'none' };
    const subscriptionLines: SubscriptionLines = { ...before.subscriptionLines };
    if (event.type === 'SubscriptionStarted' || event.type === 'SubscriptionCancelled') {
      subscriptionLines[event.data.subscriptionId] = event.type === 'SubscriptionStarted' ? 'provisioned' : 'cancelled';
      await trx
        .updateTable('orders')
        .set((eb) => ({
          state: JSON.stringify({ ...before, subscriptionLines }),
          ...(event.type === 'SubscriptionStarted' ? { pending_fulfilment: eb('pending_fulfilment', '-', 1) } : {}),
        }))
        .where('id', '=', orderId)
        .execute();
      return;
    }
    const after = evolveOrder(before, event);
    if (after.status !== 'placed') return;
    const state = JSON.stringify({ ...after, subscriptionLines });
    if (row) {
      await trx.updateTable('orders').set({ state }).where('id', '=', orderId).execute();
      return;
    }
    await trx
      .insertInto('orders')
      .values({
        id: orderId,
        customer_id: after.order.customerId,
        partner_id: after.order.partnerId,
        purchased_at: after.order.purchasedAt,
        pending_fulfilment: after.order.lineItems.filter((line) => line.subscriptionId !== null).length,
        state,
      })
      .execute();
  },
};
