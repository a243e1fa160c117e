import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { ListPage, PageRequest } from '../queries/paging';
import type { OrderView } from '../views/order.view';

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
