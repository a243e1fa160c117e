import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsCountryCode } from './customer.dto';
import { NoControlCharacters } from './validation.decorators';

export class PageQueryDto {
  @ApiPropertyOptional({ description: 'From the previous page; absent for the first page', minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  continuationToken?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, description: 'Items per page (default 100)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  size?: number;
}

export class ProductsQueryDto {
  @ApiProperty({ example: 'DE', pattern: '^[A-Za-z]{2}$', description: 'The customer market: ISO 3166-1 alpha-2 (or XK), any case' })
  @IsString()
  @IsCountryCode()
  country!: string;
}
