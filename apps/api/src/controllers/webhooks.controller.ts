import type { Principal } from '@csp/application/auth/principal';
import { WebhookEndpoints } from '@csp/application/webhooks/webhook-endpoints.service';
import { positionFromString } from '@csp/event-store';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { PageQueryDto } from '../dto/list.dto';
import { CreateWebhookDto, RedeliverWebhookDto, RotateWebhookSecretDto } from '../dto/webhook.dto';
import { ReferencePipe } from '../http/reference.pipe';
import { RequestValidationError } from '../http/request-validation.error';

/**
 * Webhook endpoints (partner `GlobalAdmin`): deliveries of the integration events, signed per
 * Standard Webhooks, in log order, retried for the retry window, then the endpoint is disabled.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly endpoints: WebhookEndpoints) {}

  /** `201 { id, url, types, secret, ... }`: the `whsec_` secret is shown in this answer only. */
  @Post()
  @HttpCode(201)
  create(@Body() body: CreateWebhookDto, @CurrentPrincipal() principal: Principal) {
    return this.endpoints.create(principal, {
      url: body.url,
      ...(body.types ? { types: body.types } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    });
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return this.endpoints.list(principal);
  }

  /** The endpoint, with `status` and, once disabled, `disabledReason`. */
  @Get(':webhookId')
  get(@Param('webhookId', ReferencePipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.endpoints.get(principal, id);
  }

  /** Deliveries stop; answers the endpoint as it was. */
  @Delete(':webhookId')
  delete(@Param('webhookId', ReferencePipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.endpoints.delete(principal, id);
  }

  /** Each event's delivery: status, attempts, last answer code, next attempt; in log order. */
  @Get(':webhookId/deliveries')
  deliveries(@Param('webhookId', ReferencePipe) id: string, @Query() query: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.endpoints.deliveries(principal, id, { continuationToken: query.continuationToken, pageSize: query.size });
  }

  /** One event again (`eventId`), or every event from a position on (`fromPosition`), which also enables a disabled endpoint. */
  @Post(':webhookId/redeliveries')
  @HttpCode(200)
  redeliver(@Param('webhookId', ReferencePipe) id: string, @Body() body: RedeliverWebhookDto, @CurrentPrincipal() principal: Principal) {
    if (body.eventId !== undefined && body.fromPosition !== undefined) {
      throw new RequestValidationError([{ in: 'body', field: 'fromPosition', code: 'CONFLICT', messages: ['give either eventId or fromPosition, not both'] }]);
    }
    if (body.eventId !== undefined) return this.endpoints.redeliver(principal, id, { eventId: body.eventId });
    const from = body.fromPosition === '0' ? 'start' : positionFromString(body.fromPosition!)!;
    return this.endpoints.redeliver(principal, id, { fromPosition: from });
  }

  /** A new secret, shown once; the previous one keeps signing beside it for `overlapSeconds` (default 24 h). */
  @Post(':webhookId/secret-rotations')
  @HttpCode(200)
  rotateSecret(@Param('webhookId', ReferencePipe) id: string, @Body() body: RotateWebhookSecretDto, @CurrentPrincipal() principal: Principal) {
    return this.endpoints.rotateSecret(principal, id, body.overlapSeconds);
  }
}
