import { BILLING_CYCLES, type BillingCycle } from '@csp/domain/catalogue/sku';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsInstant, NoControlCharacters, Omittable } from './validation.decorators';

export class OrderLineItemDto {
  @ApiProperty()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  skuId!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 10_000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  quantity!: number;

  @ApiProperty({ enum: BILLING_CYCLES })
  @IsIn(BILLING_CYCLES)
  billingCycle!: BillingCycle;

  @ApiPropertyOptional({ description: 'Name to find the subscription by; defaults to the product title', maxLength: 100 })
  @Omittable()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  friendlyName?: string;
}

export class CreateOrderDto {
  @ApiProperty({ type: [OrderLineItemDto], minItems: 1, maxItems: 50 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OrderLineItemDto)
  lineItems!: OrderLineItemDto[];
}

export class LineItemRefDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 50 })
  @IsInt()
  @Min(1)
  @Max(50)
  lineItemNumber!: number;
}

export class PatchOrderDto {
  @ApiProperty({ enum: ['cancelled'] })
  @IsIn(['cancelled'])
  status!: 'cancelled';

  @ApiPropertyOptional({ type: [LineItemRefDto], minItems: 1, maxItems: 50, description: 'Perpetual lines to cancel; all of them when left out' })
  @Omittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => LineItemRefDto)
  lineItems?: LineItemRefDto[];
}

export class ImportPurchaseDto extends CreateOrderDto {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  customerId!: string;

  @ApiProperty({ description: 'The real historic purchase instant (ISO 8601, UTC)', example: '2021-10-14T00:00:00Z' })
  @IsInstant()
  purchasedAt!: string;
}
