import type { IntegrationEvent, IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import { positionToString, type LogPosition } from '@csp/event-store';
import {
  cursorAfterPosition,
  cursorAtRow,
  FEED_START,
  integrationEventOfRow,
  integrationEventsAfter,
  type FeedSourceLog,
  type IntegrationEventsTable,
  type ReadModelDb,
} from '@csp/read-models';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { requireRole } from '../auth/authorize';
import type { Principal } from '../auth/principal';
import { EVENT_STORE, READ_MODEL_DB } from '../tokens';

export interface FeedRequest {
  /** Events after this position; from the start of the log when absent. */
  after?: LogPosition;
  /** Only these types; every type when absent or empty. */
  types?: IntegrationEventType[];
  limit: number;
  /** How long to wait for a first event when there is none yet (long-polling). */
  waitMs: number;
}

export interface FeedPage {
  items: IntegrationEvent[];
  /** Where to resume: the position of the last item, or the requested one when there was none. */
  lastPosition: string;
}

/** How often a waiting request looks for new events; also right for another process's projector. */
const POLL_MS = 100;
/** A page never ends inside the events of one source event (they share a position): at most this many more. */
const MAX_EVENTS_OF_ONE_SOURCE = 1000;

/**
 * The pull feed of integration events (`GET /v1/events`): the caller's partner's events in log
 * order, resumable from the last position a consumer processed, with long-polling so one open
 * request follows the log live.
 *
 * @example
 *   const page = await feed.read(principal, { after: positionFromString('42.42'), limit: 100, waitMs: 30_000 });
 *   // next call: { after: positionFromString(page.lastPosition), ... }
 */
@Injectable()
export class IntegrationFeed implements OnModuleDestroy {
  private stopping = false;

  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(EVENT_STORE) private readonly log: FeedSourceLog,
  ) {}

  onModuleDestroy(): void {
    this.stopping = true;
  }

  async read(principal: Principal, request: FeedRequest): Promise<FeedPage> {
    requireFeedAccess(principal);
    const deadline = Date.now() + request.waitMs;
    for (;;) {
      const rows = await this.page(principal.tenantId, request);
      if (rows.length > 0) return { items: rows.map(integrationEventOfRow), lastPosition: rows.at(-1)!.position };
      if (this.stopping || Date.now() + POLL_MS > deadline) {
        return { items: [], lastPosition: request.after ? positionToString(request.after) : '0' };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Up to `limit` events, plus the rest of the last one's position, so `lastPosition` never splits a source event. */
  private async page(partnerId: string, request: FeedRequest): Promise<IntegrationEventsTable[]> {
    const after = request.after ? cursorAfterPosition(request.after) : FEED_START;
    const types = request.types ?? [];
    const rows = await integrationEventsAfter(this.db, this.log, { partnerId, after, types, limit: request.limit });
    const last = rows.at(-1);
    if (!last || rows.length < request.limit) return rows;
    const upTo = { commit: BigInt(last.position_commit), prepare: BigInt(last.position_prepare) };
    const rest = await integrationEventsAfter(this.db, this.log, { partnerId, after: cursorAtRow(last), types, limit: MAX_EVENTS_OF_ONE_SOURCE, upTo });
    return [...rows, ...rest];
  }
}

/** Partner `GlobalAdmin` and `AdminAgent`, and backend services whatever their roles. */
function requireFeedAccess(principal: Principal): void {
  if (principal.kind === 'service') return;
  requireRole(principal, ['GlobalAdmin', 'AdminAgent'], { kinds: ['partner'] });
}
