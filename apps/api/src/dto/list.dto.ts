import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsCountryCode } from './customer.dto';
import { NoControlCharacters } from './validation.decorators';

export class PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  continuationToken?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  size?: number;
}

export class ProductsQueryDto {
  @ApiPropertyOptional({ example: 'DE', description: 'The customer market (required)' })
  @IsCountryCode()
  country!: string;
}
