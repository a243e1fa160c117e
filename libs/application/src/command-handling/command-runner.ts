import { fold, type Decider } from '@csp/domain/shared/decider';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { DomainEvent } from '@csp/domain/shared/event';
import {
  NO_STREAM,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type LogPosition,
  type RecordedEvent,
} from '@csp/event-store';
import { deterministicId, type IdGenerator } from '../ports/id-generator.port';
import type { CommandContext } from './command-context';
import { idempotencyScope, keyReused } from './idempotency-scope';

export interface CommandOutcome<State, Event extends DomainEvent> {
  /** State after the command (after the first run's events when replayed). */
  state: State;
  /** Events this command produced: the new ones, or on a replay the ones the first run appended. */
  events: Event[];
  /** Position of the command's last event; of the stream's last event when nothing was appended. */
  position: LogPosition | undefined;
}

export interface RunOptions {
  maxAttempts?: number;
  /**
   * The caller just made the stream's id up (a fresh time-ordered id, or one derived from it): the
   * first attempt decides on the empty stream without reading it. Only a hint: should the stream
   * exist after all, the append's expected revision fails and the next attempt reads it.
   */
  streamIsNew?: boolean;
}

/** A new stream's first events, decided by the caller on the stream's empty state. */
export interface StreamStart {
  streamName: string;
  events: DomainEvent[];
  commandType: string;
}

/** Metadata keys every appended event carries. */
export interface CommandMetadata extends JsonObject {
  correlationId: string;
  userId: string;
  tenantId: string;
  principalKind: string;
  commandType: string;
}

const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * Load stream → fold → decide → append with the expected revision. A revision conflict re-runs
 * the whole cycle a bounded number of times, then answers 409 CONCURRENCY_CONFLICT.
 *
 * Idempotency lives in the log itself: each event carries the caller's key and request hash, so a
 * retry finds the first run's events in the stream and answers from them, appending nothing.
 * Event ids derive from the key and the request, so a retry racing its own first run appends
 * nothing twice and answers what was recorded, while another request under the same key conflicts.
 *
 * @example
 *   const outcome = await runner.run('subscription-' + id, subscriptionDecider,
 *     (state) => subscriptionDecider.decide({ type: 'CancelSubscription', at }, state), context, 'CancelSubscription');
 */
export class CommandRunner {
  constructor(
    private readonly store: EventStore,
    private readonly ids: IdGenerator,
  ) {}

  async run<Command, Event extends DomainEvent, State>(
    streamName: string,
    decider: Decider<Command, Event, State>,
    decide: (state: State) => Event[],
    context: CommandContext,
    commandType: string,
    options: RunOptions = {},
  ): Promise<CommandOutcome<State, Event>> {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      const recorded = attempt === 1 && options.streamIsNew ? [] : await this.store.readStream(streamName);
      const replay = this.findReplay(recorded, decider, context);
      if (replay) return replay;

      const state = foldRecorded(decider, recorded);
      const events = decide(state);
      const lastRevision = recorded.at(-1)?.revision;
      if (events.length === 0) {
        return { state, events, position: recorded.at(-1)?.position };
      }
      const toAppend = events.map((event, index) =>
        this.toAppend(event, index, streamName, lastRevision, context, commandType),
      );
      try {
        const result = await this.store.appendToStream(streamName, toAppend, {
          expectedRevision: lastRevision ?? NO_STREAM,
        });
        if (context.idempotency) {
          // The store answers a retry racing its own first run as appended (same ids, same place);
          // only the recorded events say what that first run decided, at its instant.
          const recordedRun = this.findReplay(await this.store.readStream(streamName), decider, context);
          if (recordedRun) return recordedRun;
        }
        return { state: events.reduce(decider.evolve, state), events, position: result.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= maxAttempts) {
          throw new DomainError(
            'CONCURRENCY_CONFLICT',
            'conflict',
            'The resource changed concurrently too many times; retry the request',
          );
        }
        await jitter(attempt);
      }
    }
  }

  /**
   * Whether `startStreams` can run for this request: the store appends to several streams at once
   * (the embedded log), and the request carries no Idempotency-Key (its replay is found stream by
   * stream).
   */
  startsStreamsAtOnce(context: CommandContext): boolean {
    return this.store.appendToStreams !== undefined && !context.idempotency;
  }

  /**
   * Starts several new streams in one append, all or nothing (see `startsStreamsAtOnce`); returns
   * each stream's position. Undefined, with nothing appended, when a stream exists after all: the
   * caller then runs its streams one by one.
   */
  async startStreams(starts: readonly StreamStart[], context: CommandContext): Promise<LogPosition[] | undefined> {
    const appendToStreams = this.store.appendToStreams?.bind(this.store);
    if (!appendToStreams || !this.startsStreamsAtOnce(context)) {
      throw new Error('startStreams needs a store that appends to several streams and a request without an Idempotency-Key');
    }
    const appends = starts.map(({ streamName, events, commandType }) => ({
      streamName,
      events: events.map((event, index) => this.toAppend(event, index, streamName, undefined, context, commandType)),
      options: { expectedRevision: NO_STREAM },
    }));
    try {
      return (await appendToStreams(appends)).map((result) => result.position);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
  }

  /**
   * What this request's first run recorded on the stream, when the caller's Idempotency-Key already
   * ran there: lets a handler skip work with outside effects (drawing a product key) on a retry.
   */
  async recordedRun<Command, Event extends DomainEvent, State>(
    streamName: string,
    decider: Decider<Command, Event, State>,
    context: CommandContext,
  ): Promise<CommandOutcome<State, Event> | undefined> {
    if (!context.idempotency) return undefined;
    return this.findReplay(await this.store.readStream(streamName), decider, context);
  }

  private findReplay<Command, Event extends DomainEvent, State>(
    recorded: RecordedEvent[],
    decider: Decider<Command, Event, State>,
    context: CommandContext,
  ): CommandOutcome<State, Event> | undefined {
    const idempotency = context.idempotency;
    if (!idempotency) return undefined;
    const scope = idempotencyScope(context);
    const firstRun = recorded.filter(
      (event) => event.metadata['idempotencyScope'] === scope && event.metadata['idempotencyKey'] === idempotency.key,
    );
    if (firstRun.length === 0) return undefined;
    if (firstRun.some((event) => event.metadata['requestHash'] !== idempotency.requestHash)) throw keyReused();
    const last = firstRun.at(-1)!;
    const upToFirstRun = recorded.filter((event) => event.revision <= last.revision);
    return {
      state: foldRecorded(decider, upToFirstRun),
      events: firstRun.map(toDomainEvent) as Event[],
      position: last.position,
    };
  }

  private toAppend(
    event: DomainEvent,
    index: number,
    streamName: string,
    lastRevision: bigint | undefined,
    context: CommandContext,
    commandType: string,
  ): EventToAppend {
    const metadata: CommandMetadata = {
      correlationId: context.correlationId,
      userId: context.principal.userId,
      tenantId: context.principal.tenantId,
      principalKind: context.principal.kind,
      commandType,
    };
    if (context.principal.name) metadata['userName'] = context.principal.name;
    const idempotency = context.idempotency;
    if (idempotency) {
      const scope = idempotencyScope(context);
      Object.assign(metadata, { idempotencyScope: scope, idempotencyKey: idempotency.key, requestHash: idempotency.requestHash });
    }
    // The request hash is part of the id: the same key with another request must conflict, not
    // pass for a retry of the first.
    const id = idempotency
      ? deterministicId(
          idempotencyScope(context),
          idempotency.key,
          idempotency.requestHash,
          streamName,
          String(lastRevision ?? -1n),
          String(index),
        )
      : this.ids.newId();
    return { id, type: event.type, data: event.data as JsonObject, metadata };
  }
}

export function toDomainEvent(recorded: RecordedEvent): DomainEvent {
  return { type: recorded.type, data: recorded.data };
}

export function foldRecorded<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  recorded: readonly RecordedEvent[],
): State {
  return fold(decider, recorded.map(toDomainEvent) as Event[]);
}

function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 * attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
