/**
 * The EventStore port on EventStoreDB (21.10+) through `@eventstore/db-client`: the production log.
 * Chosen when `EVENTSTORE_CONNECTION_STRING` is set (`esdb://node1:2113,node2:2113?tls=false`).
 *
 * Idempotency comes from the database: the port's event ids go to EventStoreDB unchanged, and it
 * treats a retried append of the same ids at the same place as already done.
 *
 * @example
 *   const store = EsdbEventStore.connect(process.env.EVENTSTORE_CONNECTION_STRING!);
 *   await store.appendToStream('order-42', [{ id, type: 'OrderPlaced', data }], { expectedRevision: NO_STREAM });
 *   for await (const event of store.subscribeToAll({ streamPrefixes: ['order-'] })) project(event);
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AllStreamResolvedEvent,
  type ReadPosition,
  type RecordedEvent as ClientRecordedEvent,
} from '@eventstore/db-client';
import { v4 as uuid } from 'uuid';
import { chainHash, VERIFY_PROGRESS_EVERY, type LogIntegrity, type LogVerification, type VerifyLogOptions } from '../integrity/log-integrity';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  EventStoreUnavailableError,
  EventTooLargeError,
  WrongExpectedRevisionError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type LogSubscription,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../event-store.port';
import { comparePositions, type LogPosition } from '../log-position';
import { EsdbLogSubscription, type ReconnectPolicy } from './esdb-log-subscription';
import { isTransientFailure } from './esdb-transient-failure';
import {
  appendedMetadata,
  CHAIN_HASH_KEY,
  isApplicationEvent,
  LOG_IDENTITY_STREAM,
  storedChainHash,
  toClientPosition,
  toLogPosition,
  toRecordedEvent,
} from './esdb-event.mapper';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AppendRetryPolicy {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface EsdbEventStoreOptions {
  /** How subscriptions come back after the connection drops. */
  reconnect?: Partial<ReconnectPolicy>;
  /** How an append or stream read whose connection failed is retried. */
  appendRetry?: Partial<AppendRetryPolicy>;
  /** Events fetched per request when reading `$all`; filtering happens here, so pages keep memory bounded. */
  readPageSize?: number;
  /** The node's MaxAppendSize (its `--max-append-size`); larger appends are refused before sending. */
  maxAppendSize?: number;
}

const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 250, maxDelayMs: 10_000 };
/** About 6 s in all: long enough for a leader election, short enough for an HTTP client waiting. */
const DEFAULT_APPEND_RETRY: AppendRetryPolicy = { attempts: 6, initialDelayMs: 200, maxDelayMs: 2000 };
const DEFAULT_READ_PAGE_SIZE = 512;
/** EventStoreDB's default MaxAppendSize. */
const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/** How often an `any`/`stream_exists` append re-reads the stream when another writer got in between. */
const PINNED_APPEND_ATTEMPTS = 20;

/**
 * Tamper evidence on EventStoreDB is a chain per stream: each event's metadata carries (under
 * CHAIN_HASH_KEY, stripped on read) a hash over the previous event's link in the same stream and its
 * own stream, revision, id, type, data and metadata. `$all` positions are only known after a write,
 * so a chain over the whole log would need one writer; a stream's revision is fixed by the expected
 * revision instead. `any` and `stream_exists` appends are pinned to the revision read just before, and
 * retried when another writer got in between, so two writers never fork a stream's chain. Events
 * written before the chain existed have no link; a stream's chain starts at its first linked event.
 */
export class EsdbEventStore implements EventStore, LogIntegrity {
  private identity: Promise<string> | undefined;
  private readonly subscriptions = new Set<EsdbLogSubscription>();
  private readonly reconnect: ReconnectPolicy;
  private readonly appendRetry: AppendRetryPolicy;
  private readonly readPageSize: number;
  private readonly maxAppendSize: number;
  private closed = false;

  constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.appendRetry = { ...DEFAULT_APPEND_RETRY, ...options.appendRetry };
    this.readPageSize = options.readPageSize ?? DEFAULT_READ_PAGE_SIZE;
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  }

  /** Connects lazily, as the client does: a bad address surfaces on the first call, a bad string at once. */
  static connect(connectionString: string, options?: EsdbEventStoreOptions): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  /**
   * Appends on the leader. When the connection fails mid-call the outcome is unknown: the events may
   * be written. The stream is then read back; if they are there (same ids, in order) that is the
   * answer, otherwise the append is sent again with the same ids, which EventStoreDB accepts at most
   * once for `no_stream` and exact revisions. After `appendRetry.attempts` it gives up with
   * EventStoreUnavailableError, having checked the events are not written. A timeout answered by the
   * node (DeadlineExceeded) is such an unknown outcome too.
   *
   * Events above the node's MaxAppendSize, alone or together, are refused with EventTooLargeError
   * before anything is sent: the node would refuse the whole append anyway, and splitting it would
   * lose its atomicity.
   */
  async appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) return this.checkRevisionWithoutWriting(streamName, options);
    const size = appendSize(events);
    if (size > this.maxAppendSize) throw new EventTooLargeError(streamName, size, this.maxAppendSize);
    const resendable = options.expectedRevision === NO_STREAM || typeof options.expectedRevision === 'bigint';
    for (let failures = 1; ; failures++) {
      try {
        return resendable ? await this.appendChained(streamName, events, options) : await this.appendPinned(streamName, events, options);
      } catch (error) {
        if (!isTransientFailure(error)) throw error;
        const written = await this.findWritten(streamName, events);
        if (written) return written;
        if (!resendable || failures >= this.appendRetry.attempts) throw new EventStoreUnavailableError(`append to ${streamName}`, error);
        await sleep(this.retryDelay(failures));
      }
    }
  }

  /** No_stream or an exact revision: the events follow the stream's last event, whose link they chain to. */
  private async appendChained(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    const last = await this.lastEventOf(streamName);
    return this.appendOnce(streamName, chained(streamName, events, last), options);
  }

  /** `any`/`stream_exists`: pinned to the revision just read, so the chain links to the real predecessor. */
  private async appendPinned(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      const recorded = await this.readStreamRaw(streamName);
      const written = writtenRun(recorded.map(toRecordedEvent), events);
      if (written) return written;
      const last = recorded.at(-1);
      if (options.expectedRevision === STREAM_EXISTS && !last) throw new WrongExpectedRevisionError(streamName, STREAM_EXISTS, NO_STREAM);
      try {
        return await this.appendOnce(streamName, chained(streamName, events, last), { expectedRevision: last ? last.revision : NO_STREAM });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= PINNED_APPEND_ATTEMPTS) throw error;
      }
    }
  }

  private async lastEventOf(streamName: string): Promise<ClientRecordedEvent | undefined> {
    let last: ClientRecordedEvent | undefined;
    try {
      for await (const resolved of this.client.readStream(streamName, { fromRevision: END, direction: BACKWARDS, maxCount: 1, requiresLeader: true })) {
        if (resolved.event) last = resolved.event;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError || error instanceof StreamDeletedError)) throw error;
    }
    return last;
  }

  /** The identity event of this database, written by the first process that asks. */
  logIdentity(): Promise<string> {
    this.assertOpen();
    this.identity ??= this.readOrCreateIdentity().catch((error: unknown) => {
      this.identity = undefined;
      throw error;
    });
    return this.identity;
  }

  private async readOrCreateIdentity(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const [created] = await this.readStreamRaw(LOG_IDENTITY_STREAM);
      if (created) return String((created.data as { logId?: unknown }).logId);
      const logId = uuid();
      try {
        await this.client.appendToStream(LOG_IDENTITY_STREAM, jsonEvent({ id: uuid(), type: 'LogCreated', data: { logId, createdAt: new Date().toISOString() } }), {
          expectedRevision: NO_STREAM,
          requiresLeader: true,
        });
        return logId;
      } catch (error) {
        // Another process created it first: read theirs.
        if (!(error instanceof WrongExpectedVersionError) || attempt >= 3) throw error;
      }
    }
  }

  /**
   * Walks `$all` recomputing each stream's chain. From a later position, each stream's first event
   * met is taken as its chain's start (what precedes it is not read).
   */
  async verifyLog(options: VerifyLogOptions = {}): Promise<LogVerification> {
    this.assertOpen();
    const head = await this.headPosition();
    const streams = new Map<string, { revision: bigint; hash: string }>();
    let eventsChecked = 0;
    let lastPosition: LogPosition | undefined;
    for await (const event of this.applicationEvents(options.fromPosition ? { fromPosition: options.fromPosition } : {})) {
      const position = toLogPosition(event.position!);
      const stored = storedChainHash(event);
      const before = streams.get(event.streamId);
      const bad = (reason: 'altered' | 'removed' | 'unhashed', detail: string): LogVerification => ({
        intact: false,
        eventsChecked,
        lastPosition,
        firstBad: { position, reason, detail },
      });
      if (stored === undefined) {
        if (before) return bad('unhashed', `${event.streamId}@${event.revision} has no chain link though earlier events of its stream have`);
      } else {
        if (before && event.revision !== before.revision + 1n) {
          return bad('removed', `${event.streamId} goes from revision ${before.revision} to ${event.revision}`);
        }
        const startedBefore = !before && options.fromPosition !== undefined && event.revision > 0n;
        if (!startedBefore && linkOf(before?.hash ?? genesisOf(event.streamId), event) !== stored) {
          return bad('altered', `${event.streamId}@${event.revision} differs from what was recorded`);
        }
        streams.set(event.streamId, { revision: event.revision, hash: stored });
      }
      eventsChecked += 1;
      lastPosition = position;
      if (eventsChecked % VERIFY_PROGRESS_EVERY === 0) options.onProgress?.({ position, eventsChecked, head });
    }
    if (lastPosition) options.onProgress?.({ position: lastPosition, eventsChecked, head });
    return { intact: true, eventsChecked, lastPosition };
  }

  private async appendOnce(streamName: string, events: EventToAppend[], { expectedRevision }: AppendOptions): Promise<AppendResult> {
    try {
      const result = await this.client.appendToStream(
        streamName,
        events.map(({ id, type, data, metadata }) => jsonEvent({ id, type, data, metadata })),
        // The port's revision constants are the client's own strings; exact revisions are bigints in both.
        { expectedRevision, requiresLeader: true },
      );
      if (!result.position) throw new Error(`EventStoreDB returned no position for an append to ${streamName}`);
      return { nextExpectedRevision: result.nextExpectedRevision, position: toLogPosition(result.position) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new WrongExpectedRevisionError(streamName, expectedRevision, actualRevision(error.actualVersion));
      }
      // A node configured below `maxAppendSize` refuses what passed the check here; it wrote nothing.
      if (error instanceof MaxAppendSizeExceededError) throw new EventTooLargeError(streamName, undefined, error.maxAppendSize);
      throw error;
    }
  }

  private retryDelay(failures: number): number {
    return Math.min(this.appendRetry.maxDelayMs, this.appendRetry.initialDelayMs * 2 ** (failures - 1));
  }

  /** The append's result if the stream holds these events (a write whose answer was lost), else undefined. */
  private async findWritten(streamName: string, events: EventToAppend[]): Promise<AppendResult | undefined> {
    let recorded: RecordedEvent[];
    try {
      recorded = await this.readStreamOnce(streamName);
    } catch (error) {
      if (isTransientFailure(error)) return undefined;
      throw error;
    }
    return writtenRun(recorded, events);
  }

  /** Reads on the leader; a failure that passes (an election, a dropped connection) is retried like an append. */
  async readStream(streamName: string): Promise<RecordedEvent[]> {
    this.assertOpen();
    for (let failures = 1; ; failures++) {
      try {
        return await this.readStreamOnce(streamName);
      } catch (error) {
        if (!isTransientFailure(error)) throw error;
        if (failures >= this.appendRetry.attempts) throw new EventStoreUnavailableError(`read of ${streamName}`, error);
        await sleep(this.retryDelay(failures));
      }
    }
  }

  private async readStreamOnce(streamName: string): Promise<RecordedEvent[]> {
    return (await this.readStreamRaw(streamName)).map(toRecordedEvent);
  }

  private async readStreamRaw(streamName: string): Promise<ClientRecordedEvent[]> {
    const events: ClientRecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamName, { fromRevision: START, direction: FORWARDS, requiresLeader: true })) {
        if (resolved.event) events.push(resolved.event);
      }
    } catch (error) {
      // Soft-deleted streams read as not found and tombstoned ones as deleted; to the port both are absent.
      if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return [];
      throw error;
    }
    return events;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    for await (const event of this.applicationEvents(options)) yield toRecordedEvent(event);
  }

  private async *applicationEvents(options: ReadAllOptions): AsyncIterable<ClientRecordedEvent> {
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    // Client 6.2.1 cannot filter reads of $all, so pages are filtered here. Each page starts at the
    // last position of the one before, which a read includes; that event is skipped the second time
    // and asked for on top of the page size, or a page of one would never move on. A page asks for
    // no more than the events still wanted (the feed reads its source events one at a time).
    let from: LogPosition | undefined = options.fromPosition;
    let alreadySeen: LogPosition | undefined;
    for (;;) {
      let read = 0;
      const wanted = Math.min(this.readPageSize, remaining);
      const pageSize = alreadySeen ? wanted + 1 : wanted;
      for await (const event of this.readAllPage(from ? toClientPosition(from) : START, FORWARDS, pageSize)) {
        read += 1;
        const position = toLogPosition(event.position);
        if (alreadySeen && comparePositions(position, alreadySeen) === 0) continue;
        from = position;
        if (!isApplicationEvent(event, options.streamPrefixes)) continue;
        yield event;
        remaining -= 1;
        if (remaining === 0) return;
      }
      if (read < pageSize) return;
      alreadySeen = from;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): LogSubscription {
    this.assertOpen();
    const subscription = new EsdbLogSubscription(this.client, options, this.reconnect, (closed) =>
      this.subscriptions.delete(closed),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The newest application event's position; EventStoreDB's own events after it do not count. */
  async headPosition(): Promise<LogPosition | undefined> {
    this.assertOpen();
    let from: ReadPosition = END;
    for (;;) {
      let read = 0;
      for await (const event of this.readAllPage(from, BACKWARDS, this.readPageSize)) {
        read += 1;
        if (isApplicationEvent(event)) return toLogPosition(event.position);
        from = event.position;
      }
      if (read < this.readPageSize) return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  /** One request's worth of `$all`; cancels the call when the caller stops early. */
  private async *readAllPage(fromPosition: ReadPosition, direction: typeof FORWARDS | typeof BACKWARDS, maxCount: number) {
    const page = this.client.readAll({ fromPosition, direction, maxCount });
    let finished = false;
    try {
      for await (const resolved of page.iterator({ destroyOnReturn: false }) as AsyncIterable<AllStreamResolvedEvent>) {
        if (resolved.event) yield resolved.event;
      }
      finished = true;
    } finally {
      if (!finished) {
        // Leaving early ends neither the gRPC call nor the client's record of it: cancel() ends a
        // call still running, but one the server has already ended waits, paused, for its unread
        // events to be read, and the client's dispose() waits for every call it made to end. Reading
        // on (the page is not destroyed on leaving) lets such a call end; the events are dropped.
        const cancelled = page.cancel();
        page.resume();
        await cancelled;
      }
    }
  }

  /** An empty append writes nothing and EventStoreDB returns no position for it, so the check is a read. */
  private async checkRevisionWithoutWriting(streamName: string, { expectedRevision }: AppendOptions): Promise<AppendResult> {
    let last: RecordedEvent | undefined;
    try {
      for await (const resolved of this.client.readStream(streamName, { fromRevision: END, direction: BACKWARDS, maxCount: 1 })) {
        if (resolved.event) last = toRecordedEvent(resolved.event);
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError || error instanceof StreamDeletedError)) throw error;
    }
    const matches =
      expectedRevision === ANY ||
      (expectedRevision === NO_STREAM && !last) ||
      (expectedRevision === STREAM_EXISTS && last !== undefined) ||
      (typeof expectedRevision === 'bigint' && last?.revision === expectedRevision);
    if (!matches) throw new WrongExpectedRevisionError(streamName, expectedRevision, last?.revision ?? NO_STREAM);
    // Same answer as the SQLite store: -1 and the log's origin when the stream has no event yet.
    return { nextExpectedRevision: last?.revision ?? -1n, position: last?.position ?? { commit: 0n, prepare: 0n } };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The EventStoreDB event store is closed');
  }
}

/**
 * An append's size as EventStoreDB counts it against MaxAppendSize (Event.SizeOnDisk, summed): the
 * bytes of data and metadata (with the chain link the adapter adds) as the client serializes them,
 * plus two per character of the type.
 * 24.10.0 counts only the data, so this never says less than any release counts.
 */
export function appendSize(events: readonly EventToAppend[]): number {
  let size = 0;
  for (const { type, data, metadata } of events) {
    size += Buffer.byteLength(JSON.stringify(data), 'utf8') + type.length * 2;
    // The metadata goes with the event's chain link, always 64 hex digits.
    size += Buffer.byteLength(JSON.stringify({ ...metadata, [CHAIN_HASH_KEY]: '0'.repeat(64) }), 'utf8');
  }
  return size;
}

/** A stream's chain starts from its name, so an event moved to another stream does not verify. */
function genesisOf(streamName: string): string {
  return chainHash('', [streamName]);
}

function linkOf(previous: string, event: ClientRecordedEvent): string {
  return chainHash(previous, [event.streamId, event.revision, event.id, event.type, JSON.stringify(event.data), JSON.stringify(appendedMetadata(event))]);
}

/** The events with their links in the metadata, as they will sit after `last`. */
function chained(streamName: string, events: EventToAppend[], last: ClientRecordedEvent | undefined): EventToAppend[] {
  let previous = (last && storedChainHash(last)) ?? genesisOf(streamName);
  let revision = last ? last.revision + 1n : 0n;
  return events.map((event) => {
    const metadata = event.metadata ?? {};
    const link = chainHash(previous, [streamName, revision, event.id.toLowerCase(), event.type, JSON.stringify(event.data), JSON.stringify(metadata)]);
    previous = link;
    revision += 1n;
    return { ...event, metadata: { ...metadata, [CHAIN_HASH_KEY]: link } };
  });
}

/** The result of an append whose events already sit in the stream in this order (a retry), else undefined. */
function writtenRun(recorded: RecordedEvent[], events: EventToAppend[]): AppendResult | undefined {
  const first = recorded.findIndex((event) => event.id === events[0]!.id.toLowerCase());
  if (first < 0) return undefined;
  const run = recorded.slice(first, first + events.length);
  if (run.length !== events.length || run.some((event, index) => event.id !== events[index]!.id.toLowerCase())) return undefined;
  const last = run.at(-1)!;
  return { nextExpectedRevision: last.revision, position: last.position };
}

function actualRevision(actual: bigint | typeof NO_STREAM): bigint | typeof NO_STREAM {
  // Delete conflicts report "no stream" as -1; appends as the string. Both mean the same.
  return typeof actual === 'bigint' && actual < 0n ? NO_STREAM : actual;
}
