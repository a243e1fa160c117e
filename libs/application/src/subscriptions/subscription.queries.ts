import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { ListPage, PageRequest } from '../queries/paging';
import type { SubscriptionView } from '../views/subscription.view';

export class ListSubscriptionsQuery extends Query<ListPage<SubscriptionView>> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
    readonly page: PageRequest = {},
  ) {
    super();
  }
}

export class GetSubscriptionQuery extends Query<SubscriptionView> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
    readonly subscriptionRef: string,
  ) {
    super();
  }
}
