import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
import { Omittable } from './validation.decorators';

/** Either `autoRenewEnabled` or `status: "cancelled"`, not both. */
export class PatchSubscriptionDto {
  @ApiPropertyOptional()
  @Omittable()
  @IsBoolean()
  autoRenewEnabled?: boolean;

  @ApiPropertyOptional({ enum: ['cancelled'] })
  @Omittable()
  @IsIn(['cancelled'])
  status?: 'cancelled';
}
