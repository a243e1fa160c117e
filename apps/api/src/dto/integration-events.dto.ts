import { INTEGRATION_EVENT_TYPES, type IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { Omittable } from './validation.decorators';

/** `0` (the start of the log) or a position as the feed and `X-Log-Position` give them. */
export const FEED_POSITION = /^(0|\d{1,20}\.\d{1,20})$/;
const TYPE_LIST = new RegExp(`^(${INTEGRATION_EVENT_TYPES.map((type) => type.replace('.', '\\.')).join('|')})(,(${INTEGRATION_EVENT_TYPES.map((type) => type.replace('.', '\\.')).join('|')}))*$`);

export const MAX_FEED_WAIT_SECONDS = 30;

export class IntegrationEventsQueryDto {
  @ApiPropertyOptional({ description: 'Events after this position (`lastPosition` of the previous page); `0` or absent: from the start', example: '0' })
  @Omittable()
  @Matches(FEED_POSITION, { message: 'after must be 0 or a log position such as 1234.1234' })
  after?: string;

  @ApiPropertyOptional({ description: `Comma-separated types; every type when absent. One of: ${INTEGRATION_EVENT_TYPES.join(', ')}`, example: 'subscription.renewed,subscription.expired' })
  @Omittable()
  @Matches(TYPE_LIST, { message: `types must be a comma-separated list of ${INTEGRATION_EVENT_TYPES.join(', ')}` })
  types?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @Omittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'Seconds to wait for a first event when there is none yet (long-polling)', minimum: 0, maximum: MAX_FEED_WAIT_SECONDS, default: 0 })
  @Omittable()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_FEED_WAIT_SECONDS)
  wait?: number;
}

export function feedTypesOf(text: string | undefined): IntegrationEventType[] {
  return text === undefined ? [] : [...new Set(text.split(','))] as IntegrationEventType[];
}
