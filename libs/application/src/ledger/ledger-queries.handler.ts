import { ledgerChecksum } from '@csp/domain/ledger/ledger-checksum';
import { ledgerTotals } from '@csp/domain/ledger/ledger-totals';
import type { PartneredLedgerEntry } from '@csp/read-models';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { requireRole } from '../auth/authorize';
import type { Principal } from '../auth/principal';
import { pageOfItems } from '../queries/paging';
import { LedgerReader, type LedgerFilter } from './ledger-reader';
import { ExportLedgerQuery, GetLedgerPeriodQuery, GetLedgerQuery, type LedgerRequest } from './ledger.queries';
import { ledgerEntryView, ledgerPeriodAnswer } from './ledger.view';

/** Finance reads its own partner's ledger only: `BillingAdmin`, on the partner side. */
async function selectedEntries(
  customers: CustomerDirectory,
  reader: LedgerReader,
  principal: Principal,
  request: LedgerRequest,
): Promise<PartneredLedgerEntry[]> {
  requireRole(principal, ['BillingAdmin']);
  const filter: LedgerFilter = { partnerId: principal.tenantId };
  if (request.customerRef !== undefined) filter.customerId = (await customers.forQuery(principal, request.customerRef)).customerId;
  if (request.invoicePeriod !== undefined) filter.invoicePeriod = request.invoicePeriod;
  if (request.kind !== undefined) filter.kind = request.kind;
  return request.asOf ? (await reader.asOf(filter, request.asOf)).entries : reader.current(filter);
}

@QueryHandler(GetLedgerQuery)
export class GetLedgerHandler implements IQueryHandler<GetLedgerQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly reader: LedgerReader,
  ) {}

  async execute({ principal, request, page }: GetLedgerQuery) {
    const entries = await selectedEntries(this.customers, this.reader, principal, request);
    return { ...pageOfItems(entries.map(ledgerEntryView), page), totals: ledgerTotals(entries), checksum: ledgerChecksum(entries) };
  }
}

@QueryHandler(ExportLedgerQuery)
export class ExportLedgerHandler implements IQueryHandler<ExportLedgerQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly reader: LedgerReader,
  ) {}

  async execute({ principal, request }: ExportLedgerQuery) {
    const entries = await selectedEntries(this.customers, this.reader, principal, request);
    return { entries: entries.map(ledgerEntryView), checksum: ledgerChecksum(entries) };
  }
}

@QueryHandler(GetLedgerPeriodQuery)
export class GetLedgerPeriodHandler implements IQueryHandler<GetLedgerPeriodQuery> {
  constructor(
    private readonly customers: CustomerDirectory,
    private readonly reader: LedgerReader,
  ) {}

  async execute({ principal, invoicePeriod }: GetLedgerPeriodQuery) {
    const entries = await selectedEntries(this.customers, this.reader, principal, { invoicePeriod });
    return ledgerPeriodAnswer(invoicePeriod, entries);
  }
}
