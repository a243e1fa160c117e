import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';

/** Either `autoRenewEnabled` or `status: "cancelled"`, not both. */
export class PatchSubscriptionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  autoRenewEnabled?: boolean;

  @ApiPropertyOptional({ enum: ['cancelled'] })
  @IsOptional()
  @IsIn(['cancelled'])
  status?: 'cancelled';
}
