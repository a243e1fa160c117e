import { INTEGRATION_EVENT_TYPES, type IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, IsUrl, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { FEED_POSITION } from './integration-events.dto';
import { NoControlCharacters, Omittable } from './validation.decorators';

export class CreateWebhookDto {
  @ApiProperty({ description: 'https only; loopback and private hosts only when WEBHOOK_ALLOWED_HOSTS names them', example: 'https://hooks.example.com/csp' })
  @IsString()
  @Length(1, 2048)
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'], require_tld: false, require_valid_protocol: true }, { message: 'url must be an absolute http or https URL' })
  url!: string;

  @ApiPropertyOptional({ description: 'Absent or empty: every type', enum: INTEGRATION_EVENT_TYPES, isArray: true })
  @Omittable()
  @IsArray()
  @ArrayMaxSize(INTEGRATION_EVENT_TYPES.length)
  @IsIn(INTEGRATION_EVENT_TYPES, { each: true })
  types?: IntegrationEventType[];

  @ApiPropertyOptional({ maxLength: 500 })
  @Omittable()
  @IsString()
  @Length(0, 500)
  @NoControlCharacters()
  description?: string;
}

export class RotateWebhookSecretDto {
  @ApiPropertyOptional({ description: 'How long the previous secret keeps signing beside the new one (default 86400)', minimum: 0, maximum: 604800 })
  @Omittable()
  @IsInt()
  @Min(0)
  @Max(604_800)
  overlapSeconds?: number;
}

/** Exactly one of the two. */
export class RedeliverWebhookDto {
  @ApiPropertyOptional({ description: 'Deliver this one event again' })
  @ValidateIf((body: RedeliverWebhookDto) => body.fromPosition === undefined)
  @IsString()
  @Length(1, 300)
  @NoControlCharacters()
  eventId?: string;

  @ApiPropertyOptional({ description: 'Deliver every event from this position on again (inclusive; `0`: from the start); enables a disabled endpoint', example: '0' })
  @ValidateIf((body: RedeliverWebhookDto) => body.eventId === undefined)
  @Matches(FEED_POSITION, { message: 'fromPosition must be 0 or a log position such as 1234.1234' })
  fromPosition?: string;
}
