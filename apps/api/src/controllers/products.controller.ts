import { ListProductsQuery } from '@csp/application/products/list-products.query';
import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ProductsQueryDto } from '../dto/list.dto';

@ApiTags('catalogue')
@UseGuards(ConsistencyGuard)
@Controller('v1/products')
export class ProductsController {
  constructor(private readonly queries: QueryBus) {}

  /** The catalogue as sold in one market, with that market's prices. */
  @Get()
  list(@Query() query: ProductsQueryDto) {
    return this.queries.execute(new ListProductsQuery(query.country));
  }
}
