import { subscriptionNotFound, type ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStateFromStored, type ReadModelDb } from '@csp/read-models';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { SubscriptionDirectory } from '../access/subscription-directory';
import { SubscriptionLifecycle } from '../fulfilment/subscription-lifecycle';
import { Clock } from '../ports/clock.port';
import { pageOfStates } from '../queries/paging';
import { READ_MODEL_DB } from '../tokens';
import { subscriptionView, type SubscriptionView } from '../views/subscription.view';
import { GetSubscriptionQuery, ListSubscriptionsQuery } from './subscription.queries';

@QueryHandler(ListSubscriptionsQuery)
export class ListSubscriptionsHandler implements IQueryHandler<ListSubscriptionsQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly clock: Clock,
  ) {}

  /**
   * Only purchases on or after 2021-10-14 are returned; older ones are visible through the orders list.
   * Each as it stands now: a term that ended is shown renewed or expired even before the scheduler came by.
   */
  async execute({ principal, customerRef, page }: ListSubscriptionsQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    const base = this.db.selectFrom('subscriptions').where('customer_id', '=', customer.customerId).where('legacy', '=', 0);
    const now = this.clock.now();
    return pageOfStates<ExistingSubscriptionState, SubscriptionView>(base, page, subscriptionStateFromStored, (state) =>
      subscriptionView(this.lifecycle.stateAt(state, now), now),
    );
  }
}

@QueryHandler(GetSubscriptionQuery)
export class GetSubscriptionHandler implements IQueryHandler<GetSubscriptionQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly subscriptions: SubscriptionDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly clock: Clock,
  ) {}

  async execute({ principal, customerRef, subscriptionRef }: GetSubscriptionQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    const subscriptionId = await this.subscriptions.resolveId(customer.customerId, subscriptionRef);
    const row = await this.db
      .selectFrom('subscriptions')
      .select('state')
      .where('id', '=', subscriptionId)
      .where('customer_id', '=', customer.customerId)
      .executeTakeFirst();
    if (!row) throw subscriptionNotFound();
    const now = this.clock.now();
    return subscriptionView(this.lifecycle.stateAt(subscriptionStateFromStored(row.state), now), now);
  }
}
