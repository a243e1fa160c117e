import type { SupportRequestInput } from '@csp/application/support-requests/support-request.commands';
import { SUPPORT_REQUEST_IMPACTS, SUPPORT_REQUEST_PROBLEM_TYPES } from '@csp/domain/support-request/support-request-form';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsPaddedBase64, NoControlCharacters, Omittable } from './validation.decorators';

export class MoneyDto {
  @ApiProperty({ description: 'Integer minor units', minimum: 1, example: 10000 })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amount!: number;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code (three upper-case letters)' })
  currency!: string;
}

export class SupportRequestDescriptionDto {
  @ApiProperty({ description: "The customer's tenant GUID or primary domain" })
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  customer!: string;

  @ApiPropertyOptional({ description: 'At least one of orderId and subscriptionId' })
  @Omittable()
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  orderId?: string;

  @ApiPropertyOptional({ description: 'The subscription id or its friendly name' })
  @Omittable()
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  subscriptionId?: string;

  @ApiProperty({ maxLength: 4000, description: 'Free text; line breaks allowed' })
  @IsString()
  @Length(1, 4000)
  refundReason!: string;

  @ApiProperty({ type: MoneyDto })
  @IsObject()
  @ValidateNested()
  @Type(() => MoneyDto)
  requestedAmount!: MoneyDto;
}

export class SupportRequestContactDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  name!: string;

  @ApiProperty({ example: 'alex@partner.example' })
  @IsString()
  @Length(3, 254)
  @NoControlCharacters()
  email!: string;

  @ApiProperty({ example: '+49 30 1234-5678', description: '+ and 7 to 15 digits, single spaces or dashes between them' })
  @IsString()
  @Length(1, 40)
  @NoControlCharacters()
  phone!: string;
}

export class SupportRequestAttachmentDto {
  @ApiProperty({ example: 'invoice.pdf' })
  @IsString()
  @Length(1, 255)
  @NoControlCharacters()
  fileName!: string;

  @ApiProperty({ example: 'application/pdf', description: 'application/pdf, image/png, image/jpeg or text/plain' })
  @IsString()
  @Length(1, 255)
  @NoControlCharacters()
  contentType!: string;

  @ApiProperty({ description: 'The file, base64 (RFC 4648, with padding); at most 5 MiB decoded' })
  @IsString()
  @Length(1, Number.MAX_SAFE_INTEGER)
  @IsPaddedBase64()
  contentBase64!: string;
}

export class CreateSupportRequestDto {
  @ApiProperty({ enum: SUPPORT_REQUEST_PROBLEM_TYPES })
  @IsString()
  @Length(1, 200)
  problemType!: string;

  @ApiProperty({ enum: SUPPORT_REQUEST_IMPACTS })
  @IsString()
  @Length(1, 50)
  impact!: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  title!: string;

  @ApiProperty({ type: SupportRequestDescriptionDto })
  @IsObject()
  @ValidateNested()
  @Type(() => SupportRequestDescriptionDto)
  description!: SupportRequestDescriptionDto;

  @ApiProperty({ type: SupportRequestContactDto })
  @IsObject()
  @ValidateNested()
  @Type(() => SupportRequestContactDto)
  contact!: SupportRequestContactDto;

  // No size limit here: the attachment policy answers too many files with 422 TOO_MANY_ATTACHMENTS.
  @ApiPropertyOptional({ type: [SupportRequestAttachmentDto], description: 'At most 5 files' })
  @Omittable()
  @IsArray()
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => SupportRequestAttachmentDto)
  attachments?: SupportRequestAttachmentDto[];
}

export class ApproveSupportRequestDto {
  @ApiPropertyOptional({ type: MoneyDto, description: 'At most the requested amount, in its currency; all of it when left out' })
  @Omittable()
  @IsObject()
  @ValidateNested()
  @Type(() => MoneyDto)
  amount?: MoneyDto;
}

export class RejectSupportRequestDto {
  @ApiProperty({ maxLength: 4000 })
  @IsString()
  @Length(1, 4000)
  reason!: string;
}

export function supportRequestInputOf(body: CreateSupportRequestDto): SupportRequestInput {
  const { description, contact } = body;
  return {
    problemType: body.problemType,
    impact: body.impact,
    title: body.title,
    description: {
      customer: description.customer,
      ...(description.orderId !== undefined ? { orderId: description.orderId } : {}),
      ...(description.subscriptionId !== undefined ? { subscriptionId: description.subscriptionId } : {}),
      refundReason: description.refundReason,
      requestedAmount: { amount: description.requestedAmount.amount, currency: description.requestedAmount.currency },
    },
    contact: { name: contact.name, email: contact.email, phone: contact.phone },
    attachments: (body.attachments ?? []).map(({ fileName, contentType, contentBase64 }) => ({ fileName, contentType, contentBase64 })),
  };
}
