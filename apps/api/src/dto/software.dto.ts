import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { NoControlCharacters, Omittable } from './validation.decorators';

/** The download options the caller picked; the product's lists say which are required (422 INVALID_DOWNLOAD_OPTION). */
export class DownloadChoicesDto {
  @ApiPropertyOptional({ example: '2022' })
  @Omittable()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  version?: string;

  @ApiPropertyOptional({ example: 'en-us' })
  @Omittable()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  language?: string;

  @ApiPropertyOptional({ example: 'ISO' })
  @Omittable()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  fileType?: string;

  @ApiPropertyOptional({ example: 'x64' })
  @Omittable()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  operatingSystem?: string;
}

export class GenerateKeyDto extends DownloadChoicesDto {
  /** Any text reaches the rules, so a KMS request is refused as such (422 KMS_KEYS_NOT_ALLOWED), not as bad input. */
  @ApiPropertyOptional({ example: 'MAK', description: '"MAK" (default); "KMS" is always refused' })
  @Omittable()
  @IsString()
  @Length(1, 20)
  @NoControlCharacters()
  keyType?: string;
}

export function choicesOf(dto: DownloadChoicesDto | undefined): { version?: string; language?: string; fileType?: string; operatingSystem?: string } {
  const choices: { version?: string; language?: string; fileType?: string; operatingSystem?: string } = {};
  if (dto?.version !== undefined) choices.version = dto.version;
  if (dto?.language !== undefined) choices.language = dto.language;
  if (dto?.fileType !== undefined) choices.fileType = dto.fileType;
  if (dto?.operatingSystem !== undefined) choices.operatingSystem = dto.operatingSystem;
  return choices;
}
