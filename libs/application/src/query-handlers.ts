import { Catalogue } from '@csp/domain/catalogue/catalogue';
import type { PlacedOrderState } from '@csp/domain/order/order.decider';
import { orderNotFound } from '@csp/domain/order/order.decider';
import { DomainError } from '@csp/domain/shared/domain-error';
import { subscriptionNotFound, type ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';
import type { ReadModelDb, ReadModelSchema } from '@csp/read-models';
import type { SelectQueryBuilder } from 'kysely';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from './access/customer-directory';
import { SubscriptionDirectory } from './access/subscription-directory';
import { Clock } from './ports/clock.port';
import { productView } from './products/product.view';
import {
  GetOrderQuery,
  GetSubscriptionQuery,
  ListOrdersQuery,
  ListProductsQuery,
  ListSubscriptionsQuery,
  type ListPage,
  type PageRequest,
} from './queries';
import { READ_MODEL_DB } from './tokens';
import { orderView, type OrderView } from './views/order.view';
import { subscriptionView, type SubscriptionView } from './views/subscription.view';

const DEFAULT_PAGE_SIZE = 100;

/** Continuation tokens are opaque to clients; inside they are an offset. */
function pageBounds(page: PageRequest): { offset: number; limit: number } {
  const limit = page.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!page.continuationToken) return { offset: 0, limit };
  const offset = Number(Buffer.from(page.continuationToken, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new DomainError('INVALID_CONTINUATION_TOKEN', 'invalid', 'The continuation token is not one this service issued');
  }
  return { offset, limit };
}

/** Rows keeping an evolved state as JSON, one page of them in purchase order, as views. */
async function pageOfStates<State, View>(
  base: SelectQueryBuilder<ReadModelSchema, 'orders' | 'subscriptions', object>,
  page: PageRequest,
  toView: (state: State) => View,
): Promise<ListPage<View>> {
  const { offset, limit } = pageBounds(page);
  const { count } = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await base.select(['state']).orderBy('purchased_at').orderBy('id').offset(offset).limit(limit).execute();
  const items = rows.map((row) => toView(JSON.parse(row.state) as State));
  const totalCount = Number(count);
  const next = offset + items.length;
  return next < totalCount
    ? { items, totalCount, continuationToken: Buffer.from(String(next), 'utf8').toString('base64url') }
    : { items, totalCount };
}

@QueryHandler(ListOrdersQuery)
export class ListOrdersHandler implements IQueryHandler<ListOrdersQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly clock: Clock,
  ) {}

  async execute({ principal, customerRef, page }: ListOrdersQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    const base = this.db.selectFrom('orders').where('customer_id', '=', customer.customerId);
    const now = this.clock.now();
    return pageOfStates<PlacedOrderState, OrderView>(base, page, (state) => orderView(state, now));
  }
}

@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly clock: Clock,
  ) {}

  async execute({ principal, customerRef, orderId }: GetOrderQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    const row = await this.db
      .selectFrom('orders')
      .select('state')
      .where('id', '=', orderId)
      .where('customer_id', '=', customer.customerId)
      .executeTakeFirst();
    if (!row) throw orderNotFound();
    return orderView(JSON.parse(row.state) as PlacedOrderState, this.clock.now());
  }
}

@QueryHandler(ListSubscriptionsQuery)
export class ListSubscriptionsHandler implements IQueryHandler<ListSubscriptionsQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly clock: Clock,
  ) {}

  /** Only purchases on or after 2021-10-14 are returned; older ones are visible through the orders list. */
  async execute({ principal, customerRef, page }: ListSubscriptionsQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    const base = this.db.selectFrom('subscriptions').where('customer_id', '=', customer.customerId).where('legacy', '=', 0);
    const now = this.clock.now();
    return pageOfStates<ExistingSubscriptionState, SubscriptionView>(base, page, (state) => subscriptionView(state, now));
  }
}

@QueryHandler(GetSubscriptionQuery)
export class GetSubscriptionHandler implements IQueryHandler<GetSubscriptionQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly subscriptions: SubscriptionDirectory,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
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
    return subscriptionView(JSON.parse(row.state) as ExistingSubscriptionState, this.clock.now());
  }
}

@QueryHandler(ListProductsQuery)
export class ListProductsHandler implements IQueryHandler<ListProductsQuery> {
  constructor(private readonly catalogue: Catalogue) {}

  async execute({ country }: ListProductsQuery) {
    const items = this.catalogue.offersIn(country).map((sku) => productView(sku, country, this.catalogue.priceFor(sku, country)!));
    return { items, totalCount: items.length };
  }
}
