import type { Principal } from '@csp/application/auth/principal';
import {
  ApproveSupportRequestCommand,
  RejectSupportRequestCommand,
  SubmitSupportRequestCommand,
} from '@csp/application/support-requests/support-request.commands';
import { GetSupportRequestQuery } from '@csp/application/support-requests/support-request.queries';
import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApproveSupportRequestDto, CreateSupportRequestDto, RejectSupportRequestDto, supportRequestInputOf } from '../dto/support-request.dto';
import { CommandGateway } from '../http/command-gateway';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ReferencePipe } from '../http/reference.pipe';
import { commandContextOf } from '../http/request-context';

/** Cancellation support requests: partners (`AdminAgent`) file them, finance (`BillingAdmin`) decides them once. */
@ApiTags('support requests')
@UseGuards(ConsistencyGuard)
@Controller('v1/support-requests')
export class SupportRequestsController {
  constructor(
    private readonly commands: CommandGateway,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  submit(@Body() body: CreateSupportRequestDto, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: FastifyReply) {
    const context = commandContextOf(request);
    return this.commands.send('SubmitSupportRequest', context, new SubmitSupportRequestCommand(context, supportRequestInputOf(body)), response);
  }

  @Get(':requestId')
  get(@Param('requestId', ReferencePipe) requestId: string, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(new GetSupportRequestQuery(principal, requestId));
  }

  /** Credits the approved amount (all of the requested amount when none is given) on the next invoice. */
  @Post(':requestId/approve')
  @HttpCode(200)
  approve(
    @Param('requestId', ReferencePipe) requestId: string,
    @Body() body: ApproveSupportRequestDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const context = commandContextOf(request);
    const amount = body.amount ? { amount: body.amount.amount, currency: body.amount.currency } : undefined;
    return this.commands.send('ApproveSupportRequest', context, new ApproveSupportRequestCommand(context, requestId, amount), response);
  }

  @Post(':requestId/reject')
  @HttpCode(200)
  reject(
    @Param('requestId', ReferencePipe) requestId: string,
    @Body() body: RejectSupportRequestDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const context = commandContextOf(request);
    return this.commands.send('RejectSupportRequest', context, new RejectSupportRequestCommand(context, requestId, body.reason), response);
  }
}
