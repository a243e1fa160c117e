import type { Generated } from 'kysely';

/**
 * Read-model tables. Portable between SQLite and PostgreSQL: text for instants, ids and JSON,
 * integers for flags. Each row keeps the evolved aggregate state as JSON (`state`), so the
 * projection folds with the domain's own `evolve` and views are computed from one shape.
 */
export interface CustomersTable {
  id: string;
  partner_id: string;
  company_name: string;
  domain: string;
  country: string;
  registered_at: string;
}

export interface OrdersTable {
  id: string;
  customer_id: string;
  partner_id: string;
  purchased_at: string;
  /** Subscription lines whose subscription has not started yet; > 0 means fulfilment is still owed. */
  pending_fulfilment: number;
  state: string;
}

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
  state: string;
}

export interface ProjectionCheckpointsTable {
  name: string;
  /** The log position string (`commit.prepare`). */
  position: string;
  updated_at: string;
}

export interface ReadModelSchema {
  customers: CustomersTable;
  orders: OrdersTable;
  subscriptions: SubscriptionsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
}

export type AutoIncrement = Generated<number>;
