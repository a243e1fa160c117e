import type { AnyProjection } from '../projection/projection-definition';
import { activityLogProjection } from './activity-log/activity-log.projection';
import { keyShreddingReactor } from './key-shredding/key-shredding.reactor';
import { integrationEventsProjection } from './integration-events/integration-events.projection';
import { customersProjection } from './customers/customers.projection';
import { ledgerProjection } from './ledger/ledger.projection';
import { ordersProjection } from './orders/orders.projection';
import { subscriptionsProjection } from './subscriptions/subscriptions.projection';

/** Every projection the engine runs, each with its own tables, checkpoint and version. */
export const projectionRegistry: readonly AnyProjection[] = [customersProjection, ordersProjection, subscriptionsProjection, ledgerProjection, activityLogProjection, keyShreddingReactor, integrationEventsProjection];
