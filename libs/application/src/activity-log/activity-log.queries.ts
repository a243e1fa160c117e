import type { ActivityAction } from '@csp/read-models';
import { Query } from '@nestjs/cqrs';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/principal';
import type { ActivityPage } from './activity-log-reader';

export interface ActivityLogRequest {
  /** Inclusive; an ISO instant or a bare date (midnight UTC). */
  startDate: string;
  /** Exclusive; an ISO instant or a bare date (midnight UTC). */
  endDate: string;
  /** Tenant GUID, primary domain or company name of one of the caller's customers. */
  customerRef?: string;
  userId?: string;
  action?: ActivityAction;
}

export class GetActivityLogQuery extends Query<ActivityPage> {
  constructor(
    readonly principal: Principal,
    readonly request: ActivityLogRequest,
    readonly page: { continuationToken?: string; pageSize?: number },
  ) {
    super();
  }
}

/** Every selected entry as a CSV stream. */
export class ExportActivityLogQuery extends Query<Readable> {
  constructor(
    readonly principal: Principal,
    readonly request: ActivityLogRequest,
  ) {
    super();
  }
}
