import { ACTIVITY_ACTIONS, type ActivityAction } from '@csp/read-models';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Length, ValidateBy } from 'class-validator';
import { PageQueryDto } from './list.dto';
import { NoControlCharacters, Omittable } from './validation.decorators';

const ACTIONS = Object.values(ACTIVITY_ACTIONS);
const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A bare date (midnight UTC) or an instant with Z or an offset; a date that does not exist is refused. */
function IsDateOrInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isDateOrInstant',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || !(BARE_DATE.test(value) || INSTANT_WITH_OFFSET.test(value))) return false;
        const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
        const date = new Date(Date.UTC(year, month - 1, day));
        return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && !Number.isNaN(Date.parse(value));
      },
      defaultMessage: () => '$property must be a date (YYYY-MM-DD, midnight UTC) or an ISO 8601 instant with Z or an offset',
    },
  });
}

export class ActivityLogQueryDto extends PageQueryDto {
  @ApiProperty({ example: '2026-11-01', description: 'Inclusive: a date (midnight UTC) or an instant' })
  @IsDateOrInstant()
  startDate!: string;

  @ApiProperty({ example: '2026-12-01', description: 'Exclusive: a date (midnight UTC) or an instant' })
  @IsDateOrInstant()
  endDate!: string;

  @ApiPropertyOptional({ description: 'Tenant GUID, primary domain or company name of one of your customers' })
  @Omittable()
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  customerId?: string;

  @ApiPropertyOptional({ description: 'The user id as the token names it (`link:<linkId>` for a shared link)' })
  @Omittable()
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  userId?: string;

  @ApiPropertyOptional({ enum: ACTIONS })
  @Omittable()
  @IsIn(ACTIONS)
  action?: ActivityAction;
}
