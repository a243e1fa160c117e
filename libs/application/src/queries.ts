import { Query } from '@nestjs/cqrs';
import type { Principal } from './auth/principal';
import type { OrderView } from './views/order.view';
import type { ProductView } from './products/product.view';
import type { SubscriptionView } from './views/subscription.view';

/** A page of a list answer (API.md "Lists"). */
export interface ListPage<Item> {
  items: Item[];
  totalCount: number;
  continuationToken?: string;
}

export interface PageRequest {
  continuationToken?: string;
  pageSize?: number;
}

export class ListOrdersQuery extends Query<ListPage<OrderView>> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
    readonly page: PageRequest = {},
  ) {
    super();
  }
}

export class GetOrderQuery extends Query<OrderView> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
    readonly orderId: string,
  ) {
    super();
  }
}

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

export class ListProductsQuery extends Query<ListPage<ProductView>> {
  constructor(readonly country: string) {
    super();
  }
}
