import type { Principal } from '@csp/application/auth/principal';
import { ExportLedgerQuery, GetLedgerPeriodQuery, GetLedgerQuery } from '@csp/application/ledger/ledger.queries';
import { ledgerCsv } from '@csp/application/ledger/ledger.view';
import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { wantsCsv } from '../http/wants-csv';
import type { FastifyRequest, FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { LedgerPeriodParamsDto, LedgerQueryDto, ledgerRequestOf } from '../dto/ledger.dto';
import { ConsistencyGuard } from '../http/consistency.guard';

/** The refund/credit ledger for finance (`BillingAdmin`): entries, totals, checksum, reconciliation per invoice period. */
@ApiTags('ledger')
@UseGuards(ConsistencyGuard)
@Controller('v1/ledger')
export class LedgerController {
  constructor(private readonly queries: QueryBus) {}

  /**
   * One page of entries with `totals` and `checksum` over every selected entry; with `Accept: text/csv`
   * every selected entry as CSV (the checksum in `X-Ledger-Checksum`).
   */
  @Get()
  @ApiProduces('application/json', 'text/csv')
  async list(
    @Query() query: LedgerQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const selection = ledgerRequestOf(query);
    if (wantsCsv(request)) {
      const { entries, checksum } = await this.queries.execute(new ExportLedgerQuery(principal, selection));
      response.header('Content-Type', 'text/csv; charset=utf-8');
      response.header('Content-Disposition', 'attachment; filename="ledger.csv"');
      response.header('X-Ledger-Checksum', checksum);
      return ledgerCsv(entries);
    }
    return this.queries.execute(new GetLedgerQuery(principal, selection, { continuationToken: query.continuationToken, pageSize: query.size }));
  }

  /** Per customer and currency: charges, refunds, credits, voids and net of one invoice period. */
  @Get('periods/:invoicePeriod')
  period(@Param() params: LedgerPeriodParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(new GetLedgerPeriodQuery(principal, params.invoicePeriod));
  }
}
