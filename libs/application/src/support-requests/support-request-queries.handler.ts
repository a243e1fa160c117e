import { supportRequestDecider, supportRequestNotFound } from '@csp/domain/support-request/support-request.decider';
import { supportRequestStream } from '@csp/domain/support-request/support-request.events';
import type { EventStore } from '@csp/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { requireRole } from '../auth/authorize';
import { foldRecorded } from '../command-handling/command-runner';
import { EVENT_STORE } from '../tokens';
import { GetSupportRequestQuery } from './support-request.queries';
import { supportRequestView } from './support-request.view';

/**
 * Reads the request's own stream (a handful of events), so an answer right after a submission or a
 * decision is never behind. Another partner's request answers 404, as an unknown one does.
 */
@QueryHandler(GetSupportRequestQuery)
export class GetSupportRequestHandler implements IQueryHandler<GetSupportRequestQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ principal, requestId }: GetSupportRequestQuery) {
    requireRole(principal, ['AdminAgent', 'BillingAdmin']);
    const state = foldRecorded(supportRequestDecider, await this.store.readStream(supportRequestStream(requestId)));
    if (state.status === 'none' || state.request.partnerId !== principal.tenantId) throw supportRequestNotFound();
    return supportRequestView(state);
  }
}
