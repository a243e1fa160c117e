import type { IntegrationEventType } from '@csp/domain/integration-events/integration-event';
import {
  cursorAtRow,
  integrationEventById,
  integrationEventOfRow,
  integrationEventsAfter,
  type FeedCursor,
  type FeedSourceLog,
  type IntegrationEventsTable,
  type ReadModelDb,
  type WebhookDeliveriesTable,
  type WebhookEndpointsTable,
} from '@csp/read-models';
import { Logger } from '@nestjs/common';
import type { Clock } from '../ports/clock.port';
import { retryDelayMs, retryWindowIsOver } from './webhook-retry.policy';
import type { WebhookSender } from './webhook-sender';
import type { WebhookSettings } from './webhook-settings';
import { signedHeaders, type WebhookSecretBox } from './webhook-signing';

/** Events one endpoint gets in one pass at most, so one busy endpoint cannot hold up a stop for long. */
const MAX_DELIVERIES_PER_PASS = 200;
const USER_AGENT = 'csp-subscription-engine-webhooks/1';

type AttemptOutcome = 'delivered' | 'waiting' | 'disabled' | 'aborted';

/** The delivery checkpoint of an endpoint. */
export function endpointCursor(endpoint: Pick<WebhookEndpointsTable, 'cursor_commit' | 'cursor_prepare' | 'cursor_sequence'>): FeedCursor {
  return { commit: BigInt(endpoint.cursor_commit), prepare: BigInt(endpoint.cursor_prepare), sequence: Number(endpoint.cursor_sequence) };
}

export function endpointTypes(endpoint: Pick<WebhookEndpointsTable, 'types'>): IntegrationEventType[] {
  return JSON.parse(endpoint.types) as IntegrationEventType[];
}

/**
 * The webhook reactor: delivers the integration-event feed to each enabled endpoint, in feed order,
 * one event at a time, from the endpoint's own cursor. The cursor moves past an event only once the
 * receiver answered 2xx (in the same transaction that records the delivery), so a crash at any point
 * means the event is sent again with the same `webhook-id`: at least once, never out of order.
 * A failing event is retried with exponential back-off and jitter on the engine's clock; once it has
 * failed for the whole retry window the endpoint is disabled with the reason, for its owner to see.
 * Events an owner asked to have delivered again are sent beside the in-order stream.
 *
 * @example
 *   const dispatcher = new WebhookDispatcher(db, store, new HttpWebhookSender([]), secretBox, clock, settings);
 *   await dispatcher.deliverDue(new AbortController().signal);
 */
export class WebhookDispatcher {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly db: ReadModelDb,
    private readonly log: FeedSourceLog,
    private readonly sender: WebhookSender,
    private readonly secrets: WebhookSecretBox,
    private readonly clock: Clock,
    private readonly settings: WebhookSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** One pass: every enabled endpoint gets what is due to it; endpoints in parallel, each in order. */
  async deliverDue(signal: AbortSignal): Promise<void> {
    const endpoints = await this.db.selectFrom('webhook_endpoints').selectAll().where('status', '=', 'enabled').execute();
    await Promise.all(
      endpoints.map((endpoint) =>
        this.deliverToEndpoint(endpoint, signal).catch((error: unknown) => {
          if (!signal.aborted) this.logger.error(`delivery to endpoint ${endpoint.id} failed: ${String(error)}`);
        }),
      ),
    );
  }

  private async deliverToEndpoint(endpoint: WebhookEndpointsTable, signal: AbortSignal): Promise<void> {
    if (!(await this.deliverRequested(endpoint, signal))) return;
    let cursor = endpointCursor(endpoint);
    const types = endpointTypes(endpoint);
    for (let sent = 0; sent < MAX_DELIVERIES_PER_PASS && !signal.aborted; sent++) {
      const [next] = await integrationEventsAfter(this.db, this.log, { partnerId: endpoint.partner_id, after: cursor, types, limit: 1 });
      if (!next) return;
      const outcome = await this.attempt(endpoint, next, signal, { advanceFrom: cursor });
      if (outcome !== 'delivered') return;
      cursor = cursorAtRow(next);
    }
  }

  /** Single events an owner asked for again; false when the endpoint was disabled or the pass stopped meanwhile. */
  private async deliverRequested(endpoint: WebhookEndpointsTable, signal: AbortSignal): Promise<boolean> {
    const requested = await this.db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .where('endpoint_id', '=', endpoint.id)
      .where('redelivery_requested', '=', 1)
      .orderBy('position_commit')
      .orderBy('position_prepare')
      .orderBy('sequence')
      .execute();
    for (const { event_id: eventId } of requested) {
      const event = await integrationEventById(this.db, this.log, endpoint.partner_id, eventId);
      if (!event) {
        await this.db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', endpoint.id).where('event_id', '=', eventId).execute();
        continue;
      }
      const outcome = await this.attempt(endpoint, event, signal, {});
      if (outcome === 'disabled' || outcome === 'aborted') return false;
    }
    return true;
  }

  /**
   * One attempt at one event, unless its next attempt is not due yet. With `advanceFrom`, a success
   * also moves the endpoint's cursor from there past the event (compare-and-set: an owner's rewind
   * or a deletion meanwhile wins).
   */
  private async attempt(
    endpoint: WebhookEndpointsTable,
    event: IntegrationEventsTable,
    signal: AbortSignal,
    options: { advanceFrom?: FeedCursor },
  ): Promise<AttemptOutcome> {
    const previous = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', endpoint.id)
      .where('event_id', '=', event.id)
      .executeTakeFirst();
    const retrying = previous?.status === 'pending';
    if (retrying && previous.next_attempt_at !== null && Date.parse(previous.next_attempt_at) > Date.parse(this.clock.now())) return 'waiting';

    const body = JSON.stringify(integrationEventOfRow(event));
    // The signature's timestamp is the wall-clock send time the receiver checks against its own
    // clock (replay protection), not the engine's business time.
    const headers = { ...signedHeaders(this.signingSecrets(endpoint), event.id, new Date(), body), 'user-agent': USER_AGENT };
    const result = await this.sender.send({ url: endpoint.url, headers, body, timeoutMs: this.settings.attemptTimeoutMs, signal });
    if (signal.aborted) return 'aborted';

    const attemptedAt = this.clock.now();
    const attempts = (retrying ? previous.attempts : 0) + 1;
    const firstAttemptAt = (retrying ? previous.first_attempt_at : null) ?? attemptedAt;
    const statusCode = 'statusCode' in result ? result.statusCode : null;
    const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const lastError = 'error' in result ? result.error.slice(0, 500) : null;
    const row: WebhookDeliveriesTable = {
      endpoint_id: endpoint.id,
      event_id: event.id,
      event_type: event.type,
      position: event.position,
      position_commit: event.position_commit,
      position_prepare: event.position_prepare,
      sequence: event.sequence,
      status: 'pending',
      attempts,
      last_status_code: statusCode,
      last_error: lastError,
      first_attempt_at: firstAttemptAt,
      last_attempt_at: attemptedAt,
      next_attempt_at: null,
      delivered_at: null,
      redelivery_requested: previous?.redelivery_requested ?? 0,
    };

    if (succeeded) {
      await this.db.transaction().execute(async (trx) => {
        await upsertDelivery(trx, { ...row, status: 'delivered', delivered_at: attemptedAt, redelivery_requested: 0 });
        if (options.advanceFrom) {
          const from = options.advanceFrom;
          await trx
            .updateTable('webhook_endpoints')
            .set({ cursor_commit: event.position_commit, cursor_prepare: event.position_prepare, cursor_sequence: event.sequence })
            .where('id', '=', endpoint.id)
            .where('cursor_commit', '=', from.commit.toString())
            .where('cursor_prepare', '=', from.prepare.toString())
            .where('cursor_sequence', '=', from.sequence)
            .execute();
        }
      });
      return 'delivered';
    }

    if (retryWindowIsOver(firstAttemptAt, attemptedAt, this.settings.retry)) {
      const answer = statusCode !== null ? `the last answer was HTTP ${statusCode}` : `the last attempt got no answer (${lastError})`;
      const reason =
        `Event ${event.id} could not be delivered since ${firstAttemptAt} (${attempts} attempts over the ` +
        `${formatDuration(this.settings.retry.windowMs)} retry window); ${answer}. Fix the receiver, then ask for a redelivery from position ${event.position}.`;
      await this.db.transaction().execute(async (trx) => {
        await upsertDelivery(trx, { ...row, status: 'failed', redelivery_requested: 0 });
        await trx
          .updateTable('webhook_endpoints')
          .set({ status: 'disabled', disabled_reason: reason, disabled_at: attemptedAt })
          .where('id', '=', endpoint.id)
          .where('status', '=', 'enabled')
          .execute();
      });
      this.logger.warn(`endpoint ${endpoint.id} disabled: ${reason}`);
      return 'disabled';
    }

    const nextAttemptAt = new Date(Date.parse(attemptedAt) + retryDelayMs(attempts, this.settings.retry, this.random)).toISOString();
    await this.db.transaction().execute((trx) => upsertDelivery(trx, { ...row, next_attempt_at: nextAttemptAt }));
    return 'waiting';
  }

  /** The current secret, and the one before a rotation while its overlap lasts. */
  private signingSecrets(endpoint: WebhookEndpointsTable): string[] {
    const secrets = [this.secrets.open(endpoint.secret)];
    const overlapEnds = endpoint.previous_secret_expires_at;
    if (endpoint.previous_secret !== null && overlapEnds !== null && Date.parse(overlapEnds) > Date.parse(this.clock.now())) {
      secrets.push(this.secrets.open(endpoint.previous_secret));
    }
    return secrets;
  }
}

async function upsertDelivery(trx: Pick<ReadModelDb, 'insertInto'>, row: WebhookDeliveriesTable): Promise<void> {
  const { endpoint_id: _endpoint, event_id: _event, ...changes } = row;
  await trx
    .insertInto('webhook_deliveries')
    .values(row)
    .onConflict((conflict) => conflict.columns(['endpoint_id', 'event_id']).doUpdateSet(changes))
    .execute();
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
