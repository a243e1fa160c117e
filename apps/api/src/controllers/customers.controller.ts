import { GetCustomerQuery } from '@csp/application/customers/get-customer.query';
import { RegisterCustomerCommand } from '@csp/application/customers/register-customer.command';
import type { Principal } from '@csp/application/auth/principal';
import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { CreateCustomerDto } from '../dto/customer.dto';
import { CommandGateway } from '../http/command-gateway';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ReferencePipe } from '../http/reference.pipe';
import { commandContextOf } from '../http/request-context';

@ApiTags('customers')
@UseGuards(ConsistencyGuard)
@Controller('v1/customers')
export class CustomersController {
  constructor(
    private readonly commands: CommandGateway,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  register(@Body() body: CreateCustomerDto, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: FastifyReply) {
    const context = commandContextOf(request);
    return this.commands.send('RegisterCustomer', context, new RegisterCustomerCommand(context, body), response);
  }

  @Get(':customerId')
  get(@Param('customerId', ReferencePipe) customerId: string, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(new GetCustomerQuery(principal, customerId));
  }
}
