import type { LedgerAsOf } from '@csp/application/ledger/ledger-reader';
import type { LedgerRequest } from '@csp/application/ledger/ledger.queries';
import type { LedgerEntryKind } from '@csp/domain/ledger/ledger-entry';
import { positionFromString } from '@csp/event-store';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { PageQueryDto } from './list.dto';
import { IsInstant, NoControlCharacters, Omittable } from './validation.decorators';

const LEDGER_ENTRY_KINDS: readonly LedgerEntryKind[] = ['charge', 'refund', 'credit', 'void'];
/** `YYYY-MM` with a month from 01 to 12. */
export const INVOICE_PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export class LedgerQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Tenant GUID or primary domain of one of your customers' })
  @Omittable()
  @IsString()
  @Length(1, 253)
  @NoControlCharacters()
  customerId?: string;

  @ApiPropertyOptional({ example: '2026-03', pattern: INVOICE_PERIOD.source })
  @Omittable()
  @Matches(INVOICE_PERIOD, { message: 'invoicePeriod must be YYYY-MM' })
  invoicePeriod?: string;

  @ApiPropertyOptional({ enum: LEDGER_ENTRY_KINDS })
  @Omittable()
  @IsIn(LEDGER_ENTRY_KINDS)
  kind?: LedgerEntryKind;

  @ApiPropertyOptional({
    description:
      'The ledger as it stood then, replayed from the log: a log position (an X-Log-Position value, inclusive) ' +
      'or an ISO instant (every event recorded up to it)',
    examples: { position: { value: '1234.1234' }, instant: { value: '2026-03-31T23:59:59Z' } },
  })
  @Omittable()
  @ValidateIf((query: LedgerQueryDto) => positionFromString(String(query.asOf)) === undefined)
  @IsInstant()
  asOf?: string;
}

export class LedgerPeriodParamsDto {
  @ApiProperty({ example: '2026-03', pattern: INVOICE_PERIOD.source })
  @Matches(INVOICE_PERIOD, { message: 'invoicePeriod must be YYYY-MM' })
  invoicePeriod!: string;
}

export function ledgerRequestOf(query: LedgerQueryDto): LedgerRequest {
  const request: LedgerRequest = {};
  if (query.customerId !== undefined) request.customerRef = query.customerId;
  if (query.invoicePeriod !== undefined) request.invoicePeriod = query.invoicePeriod;
  if (query.kind !== undefined) request.kind = query.kind;
  if (query.asOf !== undefined) request.asOf = asOfOf(query.asOf);
  return request;
}

function asOfOf(text: string): LedgerAsOf {
  const position = positionFromString(text);
  return position ? { position } : { instant: new Date(text).toISOString() };
}
