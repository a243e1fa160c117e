import type { IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import { DomainError } from '@csp/domain/shared/domain-error';
import { comparePositions, type EventStore, type LogPosition } from '@csp/event-store';
import {
  cursorAfterPosition,
  FEED_START,
  integrationEventById,
  type FeedCursor,
  type ReadModelDb,
  type WebhookDeliveriesTable,
  type WebhookEndpointsTable,
} from '@csp/read-models';
import { Inject, Injectable } from '@nestjs/common';
import { requireRole } from '../auth/authorize';
import type { Principal } from '../auth/principal';
import { Clock } from '../ports/clock.port';
import { IdGenerator } from '../ports/id-generator.port';
import type { ListPage, PageRequest } from '../queries/paging';
import { EVENT_STORE, READ_MODEL_DB } from '../tokens';
import { checkWebhookUrl } from './webhook-address.policy';
import { endpointCursor, endpointTypes } from './webhook-dispatcher';
import { WEBHOOK_SETTINGS, type WebhookSettings } from './webhook-settings';
import { newWebhookSecret, WebhookSecretBox } from './webhook-signing';

/** An endpoint as its owner sees it; the secret only ever in the answer that created or rotated it. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  /** Empty: every type. */
  types: IntegrationEventType[];
  description?: string;
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  disabledAt?: string;
  createdAt: string;
  /** While a rotation's overlap lasts, deliveries carry a signature with the previous secret too. */
  previousSecretExpiresAt?: string;
}

export interface WebhookDeliveryView {
  eventId: string;
  eventType: string;
  position: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  firstAttemptAt: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  redeliveryRequested: boolean;
}

export interface NewWebhookEndpoint {
  url: string;
  types?: IntegrationEventType[];
  description?: string;
}

/** Either one event again, or every event from a position on (inclusive; `'0'`: the start of the log). */
export type RedeliveryRequest = { eventId: string } | { fromPosition: LogPosition | 'start' };

const DEFAULT_SECRET_OVERLAP_SECONDS = 24 * 60 * 60;
const DEFAULT_PAGE_SIZE = 100;

/**
 * Partners' webhook endpoints (`GlobalAdmin`): register, list, read, delete, rotate the secret, ask
 * for redeliveries and read deliveries. Configuration, kept in the read store's own tables; any api
 * replica may change it, and the process that runs projections delivers.
 */
@Injectable()
export class WebhookEndpoints {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    private readonly secrets: WebhookSecretBox,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * A new endpoint receives the events appended from now on; its secret is in this answer only.
   * A redelivery from a position sends it history.
   */
  async create(principal: Principal, input: NewWebhookEndpoint): Promise<WebhookEndpointView & { secret: string }> {
    requireOwner(principal);
    const url = checkWebhookUrl(input.url, this.settings.allowedHosts);
    const head = await this.store.headPosition();
    const cursor = head ? cursorAfterPosition(head) : FEED_START;
    const secret = newWebhookSecret();
    const row: WebhookEndpointsTable = {
      id: this.ids.newId(),
      partner_id: principal.tenantId,
      url: url.href,
      types: JSON.stringify([...new Set(input.types ?? [])]),
      description: input.description ?? null,
      status: 'enabled',
      disabled_reason: null,
      disabled_at: null,
      secret: this.secrets.seal(secret),
      previous_secret: null,
      previous_secret_expires_at: null,
      ...cursorColumns(cursor),
      created_at: this.clock.now(),
    };
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    return { ...endpointView(row), secret };
  }

  async list(principal: Principal): Promise<ListPage<WebhookEndpointView>> {
    requireOwner(principal);
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().where('partner_id', '=', principal.tenantId).orderBy('created_at').orderBy('id').execute();
    return { items: rows.map(endpointView), totalCount: rows.length };
  }

  async get(principal: Principal, id: string): Promise<WebhookEndpointView> {
    return endpointView(await this.owned(principal, id));
  }

  /** Deletes the endpoint and its delivery records; answers the endpoint as it was. */
  async delete(principal: Principal, id: string): Promise<WebhookEndpointView> {
    const endpoint = await this.owned(principal, id);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', endpoint.id).execute();
      await trx.deleteFrom('webhook_endpoints').where('id', '=', endpoint.id).execute();
    });
    return endpointView(endpoint);
  }

  /**
   * A new secret, shown once; the old one keeps signing beside it for `overlapSeconds` (default 24 h),
   * so receivers can switch without missing a delivery.
   */
  async rotateSecret(principal: Principal, id: string, overlapSeconds = DEFAULT_SECRET_OVERLAP_SECONDS): Promise<{ id: string; secret: string; previousSecretExpiresAt?: string }> {
    const endpoint = await this.owned(principal, id);
    const secret = newWebhookSecret();
    const expiresAt = overlapSeconds > 0 ? new Date(Date.parse(this.clock.now()) + overlapSeconds * 1000).toISOString() : null;
    await this.db
      .updateTable('webhook_endpoints')
      .set({ secret: this.secrets.seal(secret), previous_secret: expiresAt ? endpoint.secret : null, previous_secret_expires_at: expiresAt })
      .where('id', '=', endpoint.id)
      .execute();
    return expiresAt ? { id: endpoint.id, secret, previousSecretExpiresAt: expiresAt } : { id: endpoint.id, secret };
  }

  /**
   * One event again (sent beside the in-order stream; an event the endpoint has not reached yet just
   * comes in its turn), or every event from a position on: the cursor moves back there and a
   * disabled endpoint is enabled again.
   */
  async redeliver(principal: Principal, id: string, request: RedeliveryRequest): Promise<WebhookEndpointView> {
    const endpoint = await this.owned(principal, id);
    if ('fromPosition' in request) {
      const cursor = request.fromPosition === 'start' ? FEED_START : beforePosition(request.fromPosition);
      await this.db
        .updateTable('webhook_endpoints')
        .set({ ...cursorColumns(cursor), status: 'enabled', disabled_reason: null, disabled_at: null })
        .where('id', '=', endpoint.id)
        .execute();
      return this.get(principal, id);
    }
    const event = await integrationEventById(this.db, this.store, endpoint.partner_id, request.eventId);
    const types = endpointTypes(endpoint);
    if (!event || (types.length > 0 && !types.includes(event.type))) {
      throw new DomainError('UNKNOWN_EVENT', 'not_found', `Event ${request.eventId} is not one this endpoint receives`);
    }
    const cursor = endpointCursor(endpoint);
    const eventPlace: FeedCursor = { commit: BigInt(event.position_commit), prepare: BigInt(event.position_prepare), sequence: Number(event.sequence) };
    if (compareCursors(eventPlace, cursor) <= 0) {
      const requested: WebhookDeliveriesTable = {
        endpoint_id: endpoint.id,
        event_id: event.id,
        event_type: event.type,
        position: event.position,
        position_commit: event.position_commit,
        position_prepare: event.position_prepare,
        sequence: event.sequence,
        status: 'pending',
        attempts: 0,
        last_status_code: null,
        last_error: null,
        first_attempt_at: null,
        last_attempt_at: null,
        next_attempt_at: null,
        delivered_at: null,
        redelivery_requested: 1,
      };
      const { endpoint_id: _endpoint, event_id: _event, last_status_code: _code, last_error: _error, last_attempt_at: _last, delivered_at: _delivered, ...restart } = requested;
      await this.db
        .insertInto('webhook_deliveries')
        .values(requested)
        .onConflict((conflict) => conflict.columns(['endpoint_id', 'event_id']).doUpdateSet(restart))
        .execute();
    }
    return endpointView(endpoint);
  }

  /** Each event's delivery to the endpoint, in log order. */
  async deliveries(principal: Principal, id: string, page: PageRequest): Promise<ListPage<WebhookDeliveryView>> {
    const endpoint = await this.owned(principal, id);
    const offset = offsetOf(page.continuationToken);
    const limit = page.pageSize ?? DEFAULT_PAGE_SIZE;
    const base = this.db.selectFrom('webhook_deliveries').where('endpoint_id', '=', endpoint.id);
    const { count } = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base.selectAll().orderBy('position_commit').orderBy('position_prepare').orderBy('sequence').offset(offset).limit(limit).execute();
    const totalCount = Number(count);
    const next = offset + rows.length;
    const items = rows.map(deliveryView);
    return next < totalCount ? { items, totalCount, continuationToken: Buffer.from(String(next), 'utf8').toString('base64url') } : { items, totalCount };
  }

  private async owned(principal: Principal, id: string): Promise<WebhookEndpointsTable> {
    requireOwner(principal);
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('partner_id', '=', principal.tenantId).executeTakeFirst();
    // Another partner's endpoint is answered like a missing one: its existence must not leak.
    if (!row) throw new DomainError('UNKNOWN_WEBHOOK', 'not_found', `There is no webhook endpoint ${id}`);
    return row;
  }
}

function requireOwner(principal: Principal): void {
  requireRole(principal, ['GlobalAdmin']);
}

function cursorColumns(cursor: FeedCursor): Pick<WebhookEndpointsTable, 'cursor_commit' | 'cursor_prepare' | 'cursor_sequence'> {
  return { cursor_commit: cursor.commit.toString(), cursor_prepare: cursor.prepare.toString(), cursor_sequence: cursor.sequence };
}

/** Just before the first event at `position`, so the events of that position are delivered again too. */
function beforePosition(position: LogPosition): FeedCursor {
  return { commit: position.commit, prepare: position.prepare, sequence: -1 };
}

function compareCursors(a: FeedCursor, b: FeedCursor): number {
  const byPosition = comparePositions(a, b);
  return byPosition !== 0 ? byPosition : a.sequence - b.sequence;
}

function offsetOf(token: string | undefined): number {
  if (!token) return 0;
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new DomainError('INVALID_CONTINUATION_TOKEN', 'invalid', 'The continuation token is not one this service issued');
  }
  return offset;
}

function endpointView(row: WebhookEndpointsTable): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    types: endpointTypes(row),
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status === 'disabled' ? 'disabled' : 'enabled',
    ...(row.disabled_reason !== null ? { disabledReason: row.disabled_reason } : {}),
    ...(row.disabled_at !== null ? { disabledAt: row.disabled_at } : {}),
    createdAt: row.created_at,
    ...(row.previous_secret_expires_at !== null ? { previousSecretExpiresAt: row.previous_secret_expires_at } : {}),
  };
}

function deliveryView(row: WebhookDeliveriesTable): WebhookDeliveryView {
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    position: row.position,
    status: row.status as WebhookDeliveryView['status'],
    attempts: Number(row.attempts),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    firstAttemptAt: row.first_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    redeliveryRequested: Number(row.redelivery_requested) === 1,
  };
}
