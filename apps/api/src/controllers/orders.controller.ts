import type { Principal } from '@csp/application/auth/principal';
import { CancelPerpetualCommand } from '@csp/application/orders/cancel-perpetual.command';
import { PurchaseSoftwareCommand } from '@csp/application/orders/purchase-software.command';
import { GetOrderQuery, ListOrdersQuery } from '@csp/application/orders/order.queries';
import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { PageQueryDto } from '../dto/list.dto';
import { CreateOrderDto, ImportPurchaseDto, PatchOrderDto } from '../dto/order.dto';
import { CommandGateway } from '../http/command-gateway';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ReferencePipe } from '../http/reference.pipe';
import { commandContextOf } from '../http/request-context';

@ApiTags('orders')
@UseGuards(ConsistencyGuard)
@Controller('v1/customers/:customerId/orders')
export class OrdersController {
  constructor(
    private readonly commands: CommandGateway,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  purchase(
    @Param('customerId', ReferencePipe) customerId: string,
    @Body() body: CreateOrderDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const context = commandContextOf(request);
    return this.commands.send('PurchaseSoftware', context, new PurchaseSoftwareCommand(context, customerId, body.lineItems), response);
  }

  @Get()
  list(@Param('customerId', ReferencePipe) customerId: string, @Query() page: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(
      new ListOrdersQuery(principal, customerId, { continuationToken: page.continuationToken, pageSize: page.size }),
    );
  }

  @Get(':orderId')
  get(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('orderId', ReferencePipe) orderId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.queries.execute(new GetOrderQuery(principal, customerId, orderId));
  }

  /** Cancels perpetual lines (all of them when `lineItems` is left out); answers with the credit. */
  @Patch(':orderId')
  cancel(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('orderId', ReferencePipe) orderId: string,
    @Body() body: PatchOrderDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const lineItemNumbers = body.lineItems?.map((line) => line.lineItemNumber);
    const context = commandContextOf(request);
    const command = new CancelPerpetualCommand(context, customerId, orderId, lineItemNumbers);
    return this.commands.send('CancelPerpetual', context, command, response);
  }
}

@ApiTags('import')
@UseGuards(ConsistencyGuard)
@Controller('v1/import/purchases')
export class ImportController {
  constructor(private readonly commands: CommandGateway) {}

  /** Backfills a historic purchase with its real date; every transition due since then follows at once. */
  @Post()
  @HttpCode(201)
  backfill(@Body() body: ImportPurchaseDto, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: FastifyReply) {
    const purchasedAt = new Date(body.purchasedAt).toISOString();
    const context = commandContextOf(request);
    const command = new PurchaseSoftwareCommand(context, body.customerId, body.lineItems, purchasedAt);
    return this.commands.send('BackfillPurchase', context, command, response);
  }
}
