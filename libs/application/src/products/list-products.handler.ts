import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ListProductsQuery } from './list-products.query';
import { productView } from './product.view';

@QueryHandler(ListProductsQuery)
export class ListProductsHandler implements IQueryHandler<ListProductsQuery> {
  constructor(private readonly catalogue: Catalogue) {}

  async execute({ country }: ListProductsQuery) {
    const items = this.catalogue.offersIn(country).map((sku) => productView(sku, country, this.catalogue.priceFor(sku, country)!));
    return { items, totalCount: items.length };
  }
}
