import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { customerView } from '../views/customer.view';
import { GetCustomerQuery } from './get-customer.query';

@QueryHandler(GetCustomerQuery)
export class GetCustomerHandler implements IQueryHandler<GetCustomerQuery> {
  constructor(private readonly customers: CustomerDirectory) {}

  async execute({ principal, customerRef }: GetCustomerQuery) {
    return customerView(await this.customers.forQuery(principal, customerRef));
  }
}
