import { DomainError } from '@csp/domain/shared/domain-error';
import type { ReadModelDb } from '@csp/read-models';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { requireRole } from '../auth/authorize';
import type { Principal, Role } from '../auth/principal';
import { READ_MODEL_DB } from '../tokens';
import { ActivityLogReader, type ActivitySelection } from './activity-log-reader';
import { ExportActivityLogQuery, GetActivityLogQuery, type ActivityLogRequest } from './activity-log.queries';

/** SPEC "Activity log": partner users with one of these roles, and nobody else (services and customers included). */
export const ACTIVITY_LOG_READERS: readonly Role[] = ['GlobalAdmin', 'AccountAdmin', 'ReferralAdmin', 'MarketingContentAdmin'];

const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A bare date is midnight UTC; an instant is normalised to the form the log records (`toISOString`). */
export function activityInstant(text: string, field: string): string {
  const ms = Date.parse(BARE_DATE.test(text) ? `${text}T00:00:00.000Z` : text);
  if (Number.isNaN(ms)) {
    throw new DomainError('VALIDATION_FAILED', 'invalid', `${field} must be an ISO instant or a date`, {
      errors: [{ in: 'query', field, messages: ['must be an ISO instant or a date (YYYY-MM-DD)'] }],
    });
  }
  return new Date(ms).toISOString();
}

abstract class ActivityLogQueryHandler {
  protected readonly reader: ActivityLogReader;

  constructor(
    private readonly customers: CustomerDirectory,
    db: ReadModelDb,
  ) {
    this.reader = new ActivityLogReader(db);
  }

  protected async selection(principal: Principal, request: ActivityLogRequest): Promise<ActivitySelection> {
    requireRole(principal, ACTIVITY_LOG_READERS, { kinds: ['partner'] });
    const from = activityInstant(request.startDate, 'startDate');
    const to = activityInstant(request.endDate, 'endDate');
    if (to <= from) {
      throw new DomainError('VALIDATION_FAILED', 'invalid', 'endDate must be after startDate', {
        errors: [{ in: 'query', field: 'endDate', messages: ['must be after startDate (endDate is exclusive)'] }],
      });
    }
    const selection: ActivitySelection = { partnerId: principal.tenantId, from, to };
    if (request.customerRef !== undefined) selection.customerId = (await this.customers.forQuery(principal, request.customerRef)).customerId;
    if (request.userId !== undefined) selection.userId = request.userId;
    if (request.action !== undefined) selection.action = request.action;
    return selection;
  }
}

@QueryHandler(GetActivityLogQuery)
export class GetActivityLogHandler extends ActivityLogQueryHandler implements IQueryHandler<GetActivityLogQuery> {
  constructor(customers: CustomerDirectory, @Inject(READ_MODEL_DB) db: ReadModelDb) {
    super(customers, db);
  }

  async execute({ principal, request, page }: GetActivityLogQuery) {
    return this.reader.page(await this.selection(principal, request), page);
  }
}

@QueryHandler(ExportActivityLogQuery)
export class ExportActivityLogHandler extends ActivityLogQueryHandler implements IQueryHandler<ExportActivityLogQuery> {
  constructor(customers: CustomerDirectory, @Inject(READ_MODEL_DB) db: ReadModelDb) {
    super(customers, db);
  }

  async execute({ principal, request }: ExportActivityLogQuery) {
    return this.reader.csv(await this.selection(principal, request));
  }
}
