import { ExportActivityLogQuery, GetActivityLogQuery, type ActivityLogRequest } from '@csp/application/activity-log/activity-log.queries';
import type { Principal } from '@csp/application/auth/principal';
import { Controller, Get, Query, Req, StreamableFile, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { wantsCsv } from '../http/wants-csv';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ActivityLogQueryDto } from '../dto/activity-log.dto';
import { ConsistencyGuard } from '../http/consistency.guard';

/** Who revealed keys, started downloads, issued and used links (SPEC "Activity log"), for partner compliance roles. */
@ApiTags('compliance')
@UseGuards(ConsistencyGuard)
@Controller('v1/activity-log')
export class ActivityLogController {
  constructor(private readonly queries: QueryBus) {}

  /** One page as JSON; with `Accept: text/csv` every selected entry, streamed. */
  @Get()
  @ApiProduces('application/json', 'text/csv')
  async list(
    @Query() query: ActivityLogQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    const selection = requestOf(query);
    if (wantsCsv(request)) {
      const csv: Readable = await this.queries.execute(new ExportActivityLogQuery(principal, selection));
      return new StreamableFile(csv, { type: 'text/csv; charset=utf-8', disposition: 'attachment; filename="activity-log.csv"' });
    }
    return this.queries.execute(new GetActivityLogQuery(principal, selection, { continuationToken: query.continuationToken, pageSize: query.size }));
  }
}

function requestOf(query: ActivityLogQueryDto): ActivityLogRequest {
  const request: ActivityLogRequest = { startDate: query.startDate, endDate: query.endDate };
  if (query.customerId !== undefined) request.customerRef = query.customerId;
  if (query.userId !== undefined) request.userId = query.userId;
  if (query.action !== undefined) request.action = query.action;
  return request;
}
