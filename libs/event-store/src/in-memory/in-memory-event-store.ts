import { v4 as uuid } from 'uuid';
import { chainHash, type LogIntegrity, type LogVerification, type VerifyLogOptions } from '../integrity/log-integrity';
import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type LogSubscription,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../event-store.port';
import type { LogPosition } from '../log-position';
import { checkAppend, requireExpectedRevision, requireStreamName } from '../append-rules';
import { checkedBatch } from '../checked-batch';

export interface InMemoryEventStoreOptions {
  /**
   * The store clock that stamps `recordedAt`. Default: the system clock. Tests that move time by
   * hand pass theirs, so as-of reads over `recordedAt` follow the test's time.
   */
  now?: () => string;
}

/**
 * The log in process memory, for application tests that need no file and no server. It keeps the
 * SQLite store's rules exactly (expected revisions, idempotent re-append of the same ids at the
 * same place, unique event ids, one global sequence for both halves of a position) and passes the
 * same conformance suite, so a test green here is not green only because the store is lenient.
 *
 * Data and metadata go through JSON on the way in, as they do in the durable stores: whatever
 * would not survive a real log (undefined fields, class instances) does not survive here either.
 *
 * @example
 *   const store = new InMemoryEventStore({ now: () => clock.now() });
 *   await store.appendToStream(`order-${id}`, [event], { expectedRevision: NO_STREAM });
 *   for await (const e of store.subscribeToAll({ streamPrefixes: ['order-'] })) project(e);
 */
export class InMemoryEventStore implements EventStore, LogIntegrity {
  /** The global log; an event's position is its index + 1, so positions start at 1 as in SQLite. */
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byId = new Map<string, RecordedEvent>();
  private readonly subscriptions = new Set<InMemoryLogSubscription>();
  private readonly now: () => string;
  private readonly identity = uuid();
  /** The chain link of each event of `log`, at the same index. */
  private readonly hashes: string[] = [];
  private closed = false;

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.now = options.now ?? (() => new Date().toISOString());
  }

  /**
   * Checks and writes in one synchronous step, so concurrent appends are serialised in call order
   * and each is checked against the revision the previous one left.
   */
  async appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    requireStreamName(streamName);
    const expectedRevision = requireExpectedRevision(options.expectedRevision);
    const batch = checkedBatch(streamName, events, (value) => JSON.parse(JSON.stringify(value)) as JsonObject);

    const stream = this.streams.get(streamName) ?? [];
    const head = stream[stream.length - 1];
    const recorded = batch.map(({ id }) => this.byId.get(id));
    const replay = checkAppend(streamName, expectedRevision, head?.revision, batch.map(({ id }) => id), recorded);
    if (replay) return replay;
    if (batch.length === 0) {
      // Nothing to write; -1 stands for "no event yet", as EventStoreDB clients report it.
      return { nextExpectedRevision: head?.revision ?? -1n, position: head?.position ?? toPosition(0n) };
    }

    const recordedAt = this.now();
    let revision = head ? head.revision + 1n : 0n;
    for (const event of batch) {
      const stored: RecordedEvent = {
        ...event,
        streamName,
        revision,
        position: toPosition(BigInt(this.log.length + 1)),
        recordedAt,
      };
      this.hashes.push(hashOf(this.hashes[this.hashes.length - 1] ?? this.identity, stored));
      this.log.push(stored);
      stream.push(stored);
      this.byId.set(stored.id, stored);
      revision += 1n;
    }
    this.streams.set(streamName, stream);
    for (const subscription of this.subscriptions) subscription.notifyAppended();
    const last = stream[stream.length - 1]!;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  async readStream(streamName: string): Promise<RecordedEvent[]> {
    this.assertOpen();
    return (this.streams.get(streamName) ?? []).map(copyOf);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (maxCount !== Number.POSITIVE_INFINITY && !(Number.isInteger(maxCount) && maxCount >= 0)) {
      throw new RangeError(`maxCount must be a non-negative integer, got ${options.maxCount}`);
    }
    const matches = streamFilter(options.streamPrefixes ?? []);
    // fromPosition is inclusive: position p sits at index p - 1.
    let index = options.fromPosition ? Math.max(Number(options.fromPosition.commit) - 1, 0) : 0;
    let delivered = 0;
    // Reads the live array, so events appended while the reader pauses are read too, as a paging store does.
    while (delivered < maxCount && index < this.log.length) {
      const event = this.log[index++]!;
      if (!matches(event)) continue;
      delivered += 1;
      yield copyOf(event);
    }
  }

  /** An empty `streamPrefixes` list means no filter, as when it is absent. */
  subscribeToAll(options: SubscribeOptions = {}): LogSubscription {
    this.assertOpen();
    const subscription = new InMemoryLogSubscription(
      {
        eventAt: (index) => this.log[index],
        detach: (closed) => this.subscriptions.delete(closed),
      },
      // fromPosition is exclusive: the first event delivered sits at index p.
      options.fromPosition ? Number(options.fromPosition.commit) : 0,
      streamFilter(options.streamPrefixes ?? []),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<LogPosition | undefined> {
    this.assertOpen();
    return this.log[this.log.length - 1]?.position;
  }

  async logIdentity(): Promise<string> {
    return this.identity;
  }

  /** Nothing outside this object can edit the log, so this proves the chain is computed as the durable stores do. */
  async verifyLog(options: VerifyLogOptions = {}): Promise<LogVerification> {
    const start = options.fromPosition ? Math.max(Number(options.fromPosition.commit) - 1, 0) : 0;
    let previous = start === 0 ? this.identity : this.hashes[start - 1]!;
    for (let index = start; index < this.log.length; index++) {
      const event = this.log[index]!;
      if (hashOf(previous, event) !== this.hashes[index]) {
        return {
          intact: false,
          eventsChecked: index - start,
          lastPosition: this.log[index - 1]?.position,
          firstBad: { position: event.position, reason: 'altered', detail: 'the event differs from what was recorded' },
        };
      }
      previous = this.hashes[index]!;
    }
    return { intact: true, eventsChecked: Math.max(this.log.length - start, 0), lastPosition: this.log[this.log.length - 1]?.position };
  }

  /** Ends every subscription; later calls fail as they would on a closed file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('InMemoryEventStore is closed');
  }
}

interface InMemoryLog {
  eventAt(index: number): RecordedEvent | undefined;
  detach(subscription: InMemoryLogSubscription): void;
}

/**
 * Walks the log by index from where it last delivered, then waits for the store's next append.
 * Every step starts right after the last event looked at, so history and live events join with
 * no gap and no duplicate.
 */
class InMemoryLogSubscription implements LogSubscription {
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly iterator: AsyncGenerator<RecordedEvent>;

  constructor(
    private readonly log: InMemoryLog,
    private nextIndex: number,
    private readonly matches: (event: RecordedEvent) => boolean,
  ) {
    this.iterator = this.run();
  }

  /** One iterator per subscription: a second `for await` continues where the first stopped. */
  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.iterator;
  }

  notifyAppended(): void {
    this.wakeUp();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp();
    this.log.detach(this);
  }

  private async *run(): AsyncGenerator<RecordedEvent> {
    try {
      while (!this.closed) {
        const event = this.log.eventAt(this.nextIndex);
        if (!event) {
          await new Promise<void>((resolve) => (this.closed ? resolve() : (this.wake = resolve)));
          continue;
        }
        this.nextIndex += 1;
        if (this.matches(event)) yield copyOf(event);
      }
    } finally {
      this.closed = true;
      this.wake = undefined;
      this.log.detach(this);
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}


function streamFilter(prefixes: readonly string[]): (event: RecordedEvent) => boolean {
  if (prefixes.length === 0) return () => true;
  return (event) => prefixes.some((prefix) => event.streamName.startsWith(prefix));
}

/**
 * Readers get their own copy, so a consumer that mutates an event cannot change the log. Parsed
 * from JSON, as the durable stores hand events out.
 */
function copyOf(event: RecordedEvent): RecordedEvent {
  return {
    ...event,
    position: { ...event.position },
    data: JSON.parse(JSON.stringify(event.data)) as JsonObject,
    metadata: JSON.parse(JSON.stringify(event.metadata)) as JsonObject,
  };
}

function hashOf(previous: string, event: RecordedEvent): string {
  return chainHash(previous, [
    event.position.commit,
    event.streamName,
    event.revision,
    event.id,
    event.type,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
    event.recordedAt,
  ]);
}

function toPosition(position: bigint): LogPosition {
  return { commit: position, prepare: position };
}
