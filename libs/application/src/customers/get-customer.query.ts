import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { CustomerView } from '../views/customer.view';

export class GetCustomerQuery extends Query<CustomerView> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
  ) {
    super();
  }
}
