/**
 * A catch-up subscription to `$all` that survives connection loss: it resubscribes with back-off
 * from the last position it has handed out (or a later server checkpoint), so projections see
 * every application event once, in position order.
 *
 * @example
 *   const subscription = store.subscribeToAll({ fromPosition: checkpoint, streamPrefixes: ['order-'] });
 *   for await (const event of subscription) await project(event);   // elsewhere: await subscription.close()
 */
import {
  START,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { LogSubscription, RecordedEvent, SubscribeOptions } from '../event-store.port';
import { maxPosition, type LogPosition } from '../log-position';
import { isApplicationEvent, toClientPosition, toLogPosition, toRecordedEvent } from './esdb-event.mapper';
import { isTransientFailure } from './esdb-transient-failure';

export interface ReconnectPolicy {
  /** Wait before the first resubscription; doubles per consecutive failure. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Told about every failure that leads to a resubscription, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export class EsdbLogSubscription implements LogSubscription {
  private closed = false;
  private iterating = false;
  private current: AllStreamSubscription | undefined;
  private cancelDelay: (() => void) | undefined;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: SubscribeOptions,
    private readonly reconnect: ReconnectPolicy,
    private readonly onClosed: (subscription: EsdbLogSubscription) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    // One position to resume from belongs to one consumer; a second iteration would need its own.
    if (this.iterating) throw new Error('An EventStoreDB subscription can be iterated only once');
    this.iterating = true;
    return this.events();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelDelay?.();
    // Breaking out of `for await` leaves the gRPC call running; only unsubscribe() cancels it.
    await this.current?.unsubscribe();
    this.onClosed(this);
  }

  private async *events(): AsyncGenerator<RecordedEvent> {
    let resumeAfter: LogPosition | undefined = this.options.fromPosition;
    let failures = 0;
    while (!this.closed) {
      const subscription = this.client.subscribeToAll({
        fromPosition: resumeAfter ? toClientPosition(resumeAfter) : START,
        filter: this.serverFilter((position) => {
          // Checkpoints race ahead of events still buffered for us; only an empty buffer means all
          // matching events up to the checkpoint have been taken.
          if (subscription.readableLength === 0) {
            resumeAfter = resumeAfter ? maxPosition(resumeAfter, position) : position;
          }
        }),
      });
      this.current = subscription;
      try {
        for await (const resolved of subscription) {
          if (this.closed) return;
          const event = resolved.event;
          if (!event?.position) continue;
          failures = 0;
          const position = toLogPosition(event.position);
          // max, not assignment: a checkpoint may already have moved the resume point past this event.
          resumeAfter = resumeAfter ? maxPosition(resumeAfter, position) : position;
          if (isApplicationEvent(event, this.options.streamPrefixes)) yield toRecordedEvent(event);
        }
      } catch (error) {
        if (this.closed) return;
        if (!isTransientFailure(error)) throw error;
        failures += 1;
        const delayMs = this.delayFor(failures);
        this.reconnect.onRetry?.(error, failures, delayMs);
        await this.delay(delayMs);
        continue;
      } finally {
        this.current = undefined;
        await subscription.unsubscribe();
      }
      // The server ended the call without an error (a node stepping down does): subscribe again.
      if (!this.closed) await this.delay(this.delayFor(failures));
    }
  }

  /** Server-side filtering, so history the projection does not want never crosses the network. */
  private serverFilter(onCheckpoint: (position: LogPosition) => void): Filter {
    const checkpointReached = (_subscription: AllStreamSubscription, position: Position): void =>
      onCheckpoint(toLogPosition(position));
    const prefixes = this.options.streamPrefixes;
    return prefixes && prefixes.length > 0
      ? streamNameFilter({ prefixes, checkpointReached })
      : excludeSystemEvents({ checkpointReached });
  }

  private delayFor(failures: number): number {
    const exponential = this.reconnect.initialDelayMs * 2 ** Math.max(0, failures - 1);
    // Jitter keeps a fleet of projectors from reconnecting in lockstep after a leader change.
    return Math.round(Math.min(this.reconnect.maxDelayMs, exponential) * (0.5 + Math.random() / 2));
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.cancelDelay = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.cancelDelay = finish;
    });
  }
}
