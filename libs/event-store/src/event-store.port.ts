/**
 * The log every state change goes through. Two adapters implement it: the embedded
 * SQLite store (default) and EventStoreDB (production). Both must pass the
 * conformance suite in `libs/testing/src/event-store-conformance.ts`.
 *
 * @example
 *   const result = await store.appendToStream('order-42', [{ id, type: 'OrderPlaced', data, metadata }],
 *     { expectedRevision: NO_STREAM });
 *   const events = await store.readStream('order-42');
 */
import type { LogPosition } from './log-position';

/** JSON-safe payload: ISO instants, integer money, no classes. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export interface EventMetadata extends JsonObject {}

export interface EventToAppend {
  /**
   * UUID. Deterministic ids make a retried append idempotent (same ids at the same place = no-op).
   * Rely on that with `no_stream` or an exact revision: with `any`, EventStoreDB detects duplicates
   * only from a bounded cache of recent writes, lost on restart or leader change.
   */
  id: string;
  type: string;
  data: JsonObject;
  metadata?: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  streamName: string;
  /** 0-based index of the event inside its stream. */
  revision: bigint;
  /** Position in the global log ($all); strictly increasing across all streams. */
  position: LogPosition;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
  /** ISO instant the store recorded the event (store clock; the domain uses instants in `data`). */
  recordedAt: string;
}

export const ANY = 'any' as const;
export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;
/** `any`, `no_stream`, `stream_exists`, or the exact revision of the stream's last event. */
export type ExpectedRevision = typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS | bigint;

export interface AppendOptions {
  expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  nextExpectedRevision: bigint;
  /** Global position of the last appended event (for an idempotent no-op: of the matching event). */
  position: LogPosition;
}

export interface ReadAllOptions {
  /** Inclusive start; START when absent. */
  fromPosition?: LogPosition;
  maxCount?: number;
  /** Only events whose stream name starts with one of these prefixes (e.g. `order-`). */
  streamPrefixes?: string[];
  /**
   * The caller reads on far and works on each event as it comes (a rebuild): the store may read the
   * next events in a thread of its own meanwhile. A hint only; the events are the same either way.
   */
  readAhead?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive: the first delivered event comes strictly after it. START (absent) delivers from the beginning. */
  fromPosition?: LogPosition;
  streamPrefixes?: string[];
}

/**
 * A catch-up subscription: history first, then live events, no gap, no duplicate.
 * Iterate with `for await`; `close()` ends the iteration and releases resources.
 */
export interface LogSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** One stream's part of an append to several streams. */
export interface StreamAppend {
  streamName: string;
  events: EventToAppend[];
  options: AppendOptions;
}

export interface EventStore {
  appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult>;
  /**
   * Appends to several distinct streams all or nothing, in one write: one result per stream, in
   * order; a failing part (its expected revision, a reused id) fails the whole append. Optional:
   * an adapter that cannot write several streams at once leaves it out, and callers append one
   * stream after another.
   */
  appendToStreams?(appends: StreamAppend[]): Promise<AppendResult[]>;
  /** All events of a stream in revision order; [] when the stream does not exist. */
  readStream(streamName: string): Promise<RecordedEvent[]>;
  /** Events of the global log in position order, excluding store-internal/system events. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The events `readAll` gives, a page at a time (no page empty): for callers that take many events
   * at once, as a rebuild does. Each step of an async iteration costs a promise and a turn of the
   * microtask queue; by the event, that was a fifth of reading a 1M-event log. Optional: without it,
   * callers read event by event.
   */
  readAllPages?(options?: ReadAllOptions): AsyncIterable<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): LogSubscription;
  /** Position of the newest event in the log, or undefined when the log is empty. */
  headPosition(): Promise<LogPosition | undefined>;
  close(): Promise<void>;
}

/**
 * The log a page at a time from any store: its own pages where it has them (`readAllPages`), pages of
 * one event otherwise.
 *
 * @example
 *   for await (const page of readPages(store, { readAhead: true })) fold(page);
 */
export function readPages(store: EventStore, options: ReadAllOptions = {}): AsyncIterable<RecordedEvent[]> {
  return store.readAllPages?.(options) ?? pagesOfOne(store.readAll(options));
}

async function* pagesOfOne(events: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent[]> {
  for await (const event of events) yield [event];
}

/** Thrown by `appendToStream` when the stream's revision differs from the expected one. Nothing is appended. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | typeof NO_STREAM,
  ) {
    super(`Stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * Thrown when the store could not be reached for long enough that the call gave up. For an append
 * the adapter has checked that the events are not in the stream, so a retry of the same command
 * (with the same Idempotency-Key) appends them at most once.
 */
export class EventStoreUnavailableError extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`The event store is unavailable (${operation}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * Thrown by `appendToStream` when the events of one append are larger than the store accepts in one
 * write (EventStoreDB's MaxAppendSize, 1 MiB by default). Nothing is appended.
 */
export class EventTooLargeError extends Error {
  constructor(
    readonly streamName: string,
    /** The append's size as the store counts it, when known before sending. */
    readonly sizeBytes: number | undefined,
    readonly maxBytes: number,
  ) {
    super(
      `The events for ${streamName} ${sizeBytes === undefined ? 'are' : `are ${sizeBytes} bytes,`} above the event store's limit of ${maxBytes} bytes per append`,
    );
    this.name = 'EventTooLargeError';
  }
}
