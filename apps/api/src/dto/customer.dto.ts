import { isKnownCountryCode } from '@csp/domain/markets/iso-countries';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, IsUUID, Length, Matches, ValidateBy } from 'class-validator';
import { NoControlCharacters } from './validation.decorators';

/** ISO 3166-1 alpha-2 or Kosovo's user-assigned XK, in any case; the command and the answer see it upper case. */
export function IsCountryCode(): PropertyDecorator {
  const upperCase = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value));
  const known = ValidateBy({
    name: 'isCountryCode',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isKnownCountryCode(value),
      defaultMessage: () => '$property must be an ISO 3166-1 alpha-2 country code (or XK)',
    },
  });
  return (target, property) => {
    upperCase(target, property);
    known(target, property);
  };
}

export class CreateCustomerDto {
  @ApiProperty({ description: 'The customer tenant GUID', format: 'uuid' })
  @IsUUID('all')
  id!: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  companyName!: string;

  @ApiProperty({ description: 'Primary domain', example: 'contoso.onmicrosoft.com' })
  @IsString()
  @Length(3, 253)
  @Matches(/^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, { message: 'domain must be a DNS name' })
  domain!: string;

  @ApiProperty({ example: 'DE', pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 (or XK), any case; answered upper case' })
  @IsString()
  @IsCountryCode()
  country!: string;
}
