import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { pageOfItems } from '../queries/paging';
import { SoftwareItems } from './software-items';
import { ListSoftwareQuery } from './software.queries';

@QueryHandler(ListSoftwareQuery)
export class ListSoftwareHandler implements IQueryHandler<ListSoftwareQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly items: SoftwareItems,
  ) {}

  async execute({ principal, customerRef, page }: ListSoftwareQuery) {
    const customer = await this.customers.forQuery(principal, customerRef);
    return pageOfItems(await this.items.list(customer), page);
  }
}
