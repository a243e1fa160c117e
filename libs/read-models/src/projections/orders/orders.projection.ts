import { evolveOrder, type OrderState, type PlacedOrderState } from '@csp/domain/order/order.decider';
import { orderStream, type OrderEvent } from '@csp/domain/order/order.events';
import type { SubscriptionCancelled, SubscriptionStarted } from '@csp/domain/subscription/subscription.events';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { reusableStatement } from '../../reusable-statement';
import { multiRowStatement } from '../multi-row-statement';
import { idsPossiblyStored } from '../rows-stored-before';
import { statementChunks } from '../statement-chunks';

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
  apply(trx, recorded) {
    return foldOrders(trx, [recorded]);
  },
  applyBatch: foldOrders,
};


type OrderFoldEvent = OrderEvent | SubscriptionStarted | SubscriptionCancelled;

interface FoldedOrder {
  state: PlacedOrderState;
  /**
   * The stored `subscriptionLines` as a Map while the batch folds. Subscription ids as an object's
   * keys gave V8 a new hidden class for each key it had not seen, which is every one: adding the line
   * and copying the object for each event, and serialising it, took about a tenth of a rebuild's time
   * in the orders fold (see "Thirty-eighth round" in docs/benchmark-history.md).
   */
  subscriptionLines: Map<string, 'provisioned' | 'cancelled'>;
  pendingFulfilment: number;
  /** The columns the fold never changes once the order is placed. */
  placed: Omit<OrdersTable, 'state' | 'pending_fulfilment'>;
}

const upsertOrders = multiRowStatement<OrdersSchema, OrdersTable>(
  { id: true, customer_id: true, partner_id: true, purchased_at: true, state: true, pending_fulfilment: true },
  (trx, rows) =>
    trx
      .insertInto('orders')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('id').doUpdateSet((update) => ({ state: update.ref('excluded.state'), pending_fulfilment: update.ref('excluded.pending_fulfilment') })),
      ),
);

const selectOrders = reusableStatement(
  (ids: readonly string[]) => ids,
  (trx: Transaction<OrdersSchema>, ids) =>
    trx.selectFrom('orders').select(['id', 'customer_id', 'partner_id', 'purchased_at', 'state', 'pending_fulfilment']).where('id', 'in', ids),
  (ids) => ids.length,
);

/**
 * Each order the batch touches is read once (not at all when it is placed in the batch), folded in
 * memory through the batch's events in order, and written once: a purchase's order and the start of
 * each of its subscriptions are one write, and the batch's orders, new or stored, go in a few
 * multi-row upserts.
 */
async function foldOrders(trx: Transaction<OrdersSchema>, recorded: readonly RecordedEvent[]): Promise<void> {
  const events = recorded.map((event) => ({ type: event.type, data: event.data }) as unknown as OrderFoldEvent);
  const ids = [...new Set(events.map((event) => event.data.orderId))];
  const orders = new Map<string, FoldedOrder>();
  for (const chunk of statementChunks(idsPossiblyStored(recorded, ids, orderStream))) {
    const { rows } = await selectOrders(trx, chunk);
    for (const { state, pending_fulfilment, ...placed } of rows) {
      const { subscriptionLines, ...order } = JSON.parse(state) as StoredOrder;
      orders.set(placed.id, {
        state: order as PlacedOrderState,
        subscriptionLines: new Map(Object.entries(subscriptionLines ?? {})),
        pendingFulfilment: Number(pending_fulfilment),
        placed,
      });
    }
  }
  const touched = new Set<string>();
  for (const event of events) {
    const orderId = event.data.orderId;
    const order = orders.get(orderId);
    if (event.type === 'SubscriptionStarted' || event.type === 'SubscriptionCancelled') {
      // A subscription of an order the fold has not seen placed changes no row.
      if (!order) continue;
      order.subscriptionLines.set(event.data.subscriptionId, event.type === 'SubscriptionStarted' ? 'provisioned' : 'cancelled');
      if (event.type === 'SubscriptionStarted') order.pendingFulfilment -= 1;
      touched.add(orderId);
      continue;
    }
    const after = evolveOrder(order?.state ?? { status: 'none' }, event);
    if (after.status !== 'placed') continue;
    if (order) order.state = after;
    else {
      orders.set(orderId, {
        state: after,
        subscriptionLines: new Map(),
        pendingFulfilment: after.order.lineItems.filter((line) => line.subscriptionId !== null).length,
        placed: { id: orderId, customer_id: after.order.customerId, partner_id: after.order.partnerId, purchased_at: after.order.purchasedAt },
      });
    }
    touched.add(orderId);
  }
  const rows = [...touched].map((orderId): OrdersTable => {
    const { state, subscriptionLines, pendingFulfilment, placed } = orders.get(orderId)!;
    return { ...placed, state: storedOrderState(state, subscriptionLines), pending_fulfilment: pendingFulfilment };
  });
  await upsertOrders(trx, rows);
}

/**
 * `state` as JSON with `subscriptionLines` after its other members, as `JSON.stringify` of the
 * object with the lines as its last member gives it (subscription ids are never array indices, which
 * an object would list first), without making that object.
 */
export function storedOrderState(state: PlacedOrderState, subscriptionLines: ReadonlyMap<string, string>): string {
  const lines = [...subscriptionLines].map(([subscriptionId, line]) => `${JSON.stringify(subscriptionId)}:${JSON.stringify(line)}`);
  const withoutLines = JSON.stringify(state);
  return `${withoutLines.slice(0, -1)},"subscriptionLines":{${lines.join(',')}}}`;
}
