import type { Principal } from '@csp/application/auth/principal';
import { IntegrationFeed } from '@csp/application/integration-events/integration-feed';
import { positionFromString } from '@csp/event-store';
import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { feedTypesOf, IntegrationEventsQueryDto } from '../dto/integration-events.dto';
import { ConsistencyGuard } from '../http/consistency.guard';

const DEFAULT_LIMIT = 100;

/** The pull feed of integration events for backend services: the caller's partner's events in log order. */
@ApiTags('integration events')
@UseGuards(ConsistencyGuard)
@Controller('v1/events')
export class IntegrationEventsController {
  constructor(private readonly feed: IntegrationFeed) {}

  /** `{ items, lastPosition }`; pass `lastPosition` as `after` to resume; `wait` long-polls up to 30 s. */
  @Get()
  list(@Query() query: IntegrationEventsQueryDto, @CurrentPrincipal() principal: Principal) {
    const after = query.after === undefined || query.after === '0' ? undefined : positionFromString(query.after);
    return this.feed.read(principal, {
      ...(after ? { after } : {}),
      types: feedTypesOf(query.types),
      limit: query.limit ?? DEFAULT_LIMIT,
      waitMs: (query.wait ?? 0) * 1000,
    });
  }
}
