import { Query } from '@nestjs/cqrs';
import type { ListPage } from '../queries/paging';
import type { ProductView } from './product.view';

export class ListProductsQuery extends Query<ListPage<ProductView>> {
  constructor(readonly country: string) {
    super();
  }
}
