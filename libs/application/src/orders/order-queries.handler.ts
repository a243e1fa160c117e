import { orderNotFound } from '@csp/domain/order/order.decider';
import type { ReadModelDb } from '@csp/read-models';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { Clock } from '../ports/clock.port';
import { pageOfStates } from '../queries/paging';
import { READ_MODEL_DB } from '../tokens';
import { orderView, type OrderView, type StoredOrderState } from '../views/order.view';
import { GetOrderQuery, ListOrdersQuery } from './order.queries';

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
    return pageOfStates<StoredOrderState, OrderView>(base, page, (stored) => JSON.parse(stored) as StoredOrderState, (state) => orderView(state, now));
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
    return orderView(JSON.parse(row.state) as StoredOrderState, this.clock.now());
  }
}
