import type { Principal } from '@csp/application/auth/principal';
import { GetSubscriptionQuery, ListSubscriptionsQuery } from '@csp/application/subscriptions/subscription.queries';
import { CancelSubscriptionCommand, ToggleAutorenewCommand } from '@csp/application/subscriptions/subscription-commands';
import { DomainError } from '@csp/domain/shared/domain-error';
import { Body, Controller, Get, Param, Patch, Query, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { PageQueryDto } from '../dto/list.dto';
import { PatchSubscriptionDto } from '../dto/subscription.dto';
import { CommandGateway } from '../http/command-gateway';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ReferencePipe } from '../http/reference.pipe';
import { commandContextOf } from '../http/request-context';

@ApiTags('subscriptions')
@UseGuards(ConsistencyGuard)
@Controller('v1/customers/:customerId/subscriptions')
export class SubscriptionsController {
  constructor(
    private readonly commands: CommandGateway,
    private readonly queries: QueryBus,
  ) {}

  /** Subscriptions purchased on or after 2021-10-14 only. */
  @Get()
  list(@Param('customerId', ReferencePipe) customerId: string, @Query() page: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(
      new ListSubscriptionsQuery(principal, customerId, { continuationToken: page.continuationToken, pageSize: page.size }),
    );
  }

  @Get(':subscriptionId')
  get(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('subscriptionId', ReferencePipe) subscriptionId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.queries.execute(new GetSubscriptionQuery(principal, customerId, subscriptionId));
  }

  /** `{ autoRenewEnabled }` switches autorenew; `{ status: "cancelled" }` cancels and answers with the refund. */
  @Patch(':subscriptionId')
  patch(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('subscriptionId', ReferencePipe) subscriptionId: string,
    @Body() body: PatchSubscriptionDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const target = { context: commandContextOf(request), customerRef: customerId, subscriptionRef: subscriptionId };
    const changesAutoRenew = body.autoRenewEnabled !== undefined;
    if (changesAutoRenew === (body.status !== undefined)) {
      const code = changesAutoRenew ? 'CONFLICT' : 'REQUIRED';
      throw new DomainError('VALIDATION_FAILED', 'invalid', 'Send either autoRenewEnabled or status: "cancelled"', {
        errors: [{ in: 'body', field: 'autoRenewEnabled|status', code, messages: ['exactly one of autoRenewEnabled and status is required'] }],
      });
    }
    return changesAutoRenew
      ? this.commands.send('ToggleAutorenew', target.context, new ToggleAutorenewCommand(target, body.autoRenewEnabled!), response)
      : this.commands.send('CancelSubscription', target.context, new CancelSubscriptionCommand(target), response);
  }
}
