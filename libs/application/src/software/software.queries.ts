import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { ListPage, PageRequest } from '../queries/paging';
import type { SoftwareItemView } from './software-items';

/** Every software purchase of a customer, for its partner's users or its own GlobalAdmin. */
export class ListSoftwareQuery extends Query<ListPage<SoftwareItemView>> {
  constructor(
    readonly principal: Principal,
    readonly customerRef: string,
    readonly page: PageRequest,
  ) {
    super();
  }
}
