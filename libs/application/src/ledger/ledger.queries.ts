import type { LedgerEntryKind } from '@csp/domain/ledger/ledger-entry';
import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { PageRequest } from '../queries/paging';
import type { LedgerAsOf } from './ledger-reader';
import type { LedgerAnswer, LedgerEntryView, LedgerPeriodAnswer } from './ledger.view';

/** What `GET /v1/ledger` selects; each member left out selects everything. */
export interface LedgerRequest {
  /** Tenant GUID or domain of one of the caller's customers. */
  customerRef?: string;
  invoicePeriod?: string;
  kind?: LedgerEntryKind;
  /** Replay the log up to this moment instead of reading the live projection. */
  asOf?: LedgerAsOf;
}

export class GetLedgerQuery extends Query<LedgerAnswer> {
  constructor(
    readonly principal: Principal,
    readonly request: LedgerRequest,
    readonly page: PageRequest = {},
  ) {
    super();
  }
}

/** Every selected entry at once (the CSV export), with the checksum over them. */
export class ExportLedgerQuery extends Query<{ entries: LedgerEntryView[]; checksum: string }> {
  constructor(
    readonly principal: Principal,
    readonly request: LedgerRequest,
  ) {
    super();
  }
}

export class GetLedgerPeriodQuery extends Query<LedgerPeriodAnswer> {
  constructor(
    readonly principal: Principal,
    readonly invoicePeriod: string,
  ) {
    super();
  }
}
