/**
 * The transaction log behind the EventStoreDB test server: one global, position-ordered list of
 * records plus per-stream indexes, with EventStoreDB's write rules (expected versions, idempotent
 * re-appends by event id, soft delete through `$$stream` metadata, tombstones).
 *
 * The decision rules follow EventStoreDB's commit check (IndexWriter.CheckCommit) as closely as an
 * in-memory model allows, because the point of this server is that the adapter tested against it
 * behaves the same against the real database.
 *
 * @example
 *   const log = EsdbMemoryLog.open();               // or EsdbMemoryLog.open('/tmp/log.ndjson')
 *   log.append('order-1', 'no_stream', [event]);    // { kind: 'written', ... }
 *   log.onAppend(() => pump());                     // live subscribers
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** EventStoreDB's EventNumber.DeletedStream (long.MaxValue): the tombstone's revision and the soft-delete `$tb`. */
export const DELETED_STREAM_REVISION = 9223372036854775807n;

export const STREAM_METADATA_EVENT_TYPE = '$metadata';
export const STREAM_DELETED_EVENT_TYPE = '$streamDeleted';
/** A link: its data `<revision>@<stream>` points at an event of another stream. */
export const LINK_EVENT_TYPE = '$>';

/** Mirrors the wire's expected-revision oneof. */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export interface LogRecord extends ProposedEvent {
  /** Commit and prepare position are the same for every record this log writes. */
  position: bigint;
  streamName: string;
  revision: bigint;
  /** 100 ns ticks since the Unix epoch, as EventStoreDB puts it in the `created` metadata entry. */
  createdTicks: bigint;
}

export type WriteOutcome =
  | {
      kind: 'written';
      /** Revision of the stream's last event after the write; undefined when the stream still has none. */
      currentRevision: bigint | undefined;
      position: bigint | undefined;
    }
  | { kind: 'wrong-expected-version'; currentRevision: bigint | undefined; expected: ExpectedVersion }
  | { kind: 'stream-deleted' };

export type StreamReadResult =
  | { kind: 'found'; records: LogRecord[]; firstVisibleRevision: bigint }
  | { kind: 'not-found' }
  | { kind: 'deleted' };

interface StreamState {
  /** Indexed by revision: revisions are contiguous from 0, truncation only hides them from reads. */
  events: LogRecord[];
  tombstoned: boolean;
}

type CommitCheck =
  | { decision: 'ok'; currentVersion: bigint; softDeleted: boolean }
  | { decision: 'idempotent'; lastRevision: bigint }
  | { decision: 'wrong-expected-version'; currentVersion: bigint }
  | { decision: 'deleted' };

/** What stream metadata says about which events reads of the stream still return. */
interface StreamRetention {
  truncateBefore?: bigint;
  maxCount?: number;
  maxAgeSeconds?: number;
}

const NO_EVENTS = -1n;
const TICKS_PER_MILLISECOND = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
/** Gives positions the gaps of a real log so nobody can mistake them for sequence numbers. */
const RECORD_HEADER_BYTES = 96n;
/** A real log opens with its epoch records, so no event ever sits at position 0 (the port's "origin"). */
const FIRST_RECORD_POSITION = 1024n;

interface PersistedRecord {
  p: string;
  s: string;
  r: string;
  i: string;
  t: string;
  ct: string;
  d: string;
  m: string;
  c: string;
}

export class EsdbMemoryLog {
  private readonly records: LogRecord[] = [];
  private readonly streams = new Map<string, StreamState>();
  /** EventStoreDB's committed-events cache: event id → where it was written, for idempotency under `any`. */
  private readonly eventLocations = new Map<string, { streamName: string; revision: bigint }>();
  private readonly listeners = new Set<() => void>();
  private nextPosition = FIRST_RECORD_POSITION;

  private constructor(private readonly file: string | undefined) {}

  /** An empty log, or the log persisted in `file` (one JSON record a line, appended on every write). */
  static open(file?: string): EsdbMemoryLog {
    const log = new EsdbMemoryLog(file);
    // Like a node creating its database directory: the log's first write (its epoch) comes at start.
    if (file) mkdirSync(dirname(file), { recursive: true });
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() !== '') log.index(fromPersisted(JSON.parse(line) as PersistedRecord));
      }
    }
    return log;
  }

  get length(): number {
    return this.records.length;
  }

  /** The position the next record will be written at. */
  get endPosition(): bigint {
    return this.nextPosition;
  }

  recordAt(index: number): LogRecord {
    const record = this.records[index];
    if (!record) throw new RangeError(`No log record at index ${index}`);
    return record;
  }

  /** Index of the first record whose position is >= `position` (the length when there is none). */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.recordAt(middle).position < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Called after every write; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  append(streamName: string, expected: ExpectedVersion, events: ProposedEvent[]): WriteOutcome {
    const metastreamOwner = originalStreamOf(streamName);
    const ownerWasSoftDeleted = metastreamOwner !== undefined && this.isSoftDeleted(metastreamOwner);
    const check = this.checkCommit(
      streamName,
      expected,
      events.map((event) => event.id),
    );
    switch (check.decision) {
      case 'deleted':
        return { kind: 'stream-deleted' };
      case 'wrong-expected-version':
        return { kind: 'wrong-expected-version', currentRevision: revisionOrUndefined(check.currentVersion), expected };
      case 'idempotent':
        return {
          kind: 'written',
          currentRevision: check.lastRevision,
          position: this.streams.get(streamName)?.events[Number(check.lastRevision)]?.position,
        };
      case 'ok':
        break;
    }
    if (events.length === 0) {
      return { kind: 'written', currentRevision: revisionOrUndefined(check.currentVersion), position: undefined };
    }
    let revision = check.currentVersion;
    let last: LogRecord | undefined;
    for (const event of events) {
      revision += 1n;
      last = this.write(streamName, revision, event);
    }
    // The real writer recreates a soft-deleted stream by rewriting its `$tb` to the first new revision.
    if (check.softDeleted) this.softUndelete(streamName, check.currentVersion + 1n);
    if (metastreamOwner !== undefined && ownerWasSoftDeleted) {
      this.softUndelete(metastreamOwner, this.lastRevision(metastreamOwner) + 1n);
    }
    this.notify();
    return { kind: 'written', currentRevision: revision, position: last?.position };
  }

  /**
   * Writes one of the database's own events (JSON data), the way the node's services write them:
   * no expected-version check, next revision of its stream, announced to subscribers like any write.
   */
  appendSystemEvent(streamName: string, type: string, data: unknown): LogRecord {
    const record = this.write(streamName, this.lastRevision(streamName) + 1n, {
      id: randomUUID(),
      type,
      contentType: 'application/json',
      data: Buffer.from(JSON.stringify(data), 'utf8'),
      customMetadata: new Uint8Array(),
    });
    this.notify();
    return record;
  }

  /** Soft delete: a `$metadata` event with `$tb` = DeletedStream in `$$stream`; the stream can be recreated. */
  deleteStream(streamName: string, expected: ExpectedVersion): WriteOutcome {
    const refusal = this.refuseDelete(streamName, expected);
    if (refusal) return refusal;
    const metastream = metastreamOf(streamName);
    if (this.lastRevision(streamName) < 0n && this.lastRevision(metastream) < 0n) {
      return { kind: 'wrong-expected-version', currentRevision: undefined, expected };
    }
    const record = this.write(metastream, this.lastRevision(metastream) + 1n, {
      id: randomUUID(),
      type: STREAM_METADATA_EVENT_TYPE,
      contentType: 'application/json',
      data: Buffer.from(`{"$tb":${DELETED_STREAM_REVISION}}`, 'utf8'),
      customMetadata: new Uint8Array(),
    });
    this.notify();
    return { kind: 'written', currentRevision: undefined, position: record.position };
  }

  /** Hard delete: a `$streamDeleted` event at revision DeletedStream; the stream can never be written again. */
  tombstoneStream(streamName: string, expected: ExpectedVersion): WriteOutcome {
    const refusal = this.refuseDelete(streamName, expected);
    if (refusal) return refusal;
    const record = this.write(streamName, DELETED_STREAM_REVISION, {
      id: randomUUID(),
      type: STREAM_DELETED_EVENT_TYPE,
      contentType: 'application/octet-stream',
      data: new Uint8Array(),
      customMetadata: new Uint8Array(),
    });
    this.notify();
    return { kind: 'written', currentRevision: undefined, position: record.position };
  }

  /** The stream's events a read returns: none below `$tb`, only the last `$maxCount`, none older than `$maxAge`. */
  readStream(streamName: string, now = Date.now()): StreamReadResult {
    const state = this.streams.get(streamName);
    if (state?.tombstoned) return { kind: 'deleted' };
    const truncateBefore = this.truncateBefore(streamName) ?? 0n;
    if (!state || state.events.length === 0 || truncateBefore === DELETED_STREAM_REVISION) return { kind: 'not-found' };
    const records = state.events.filter((record) => this.isVisibleInStream(record, now));
    return { kind: 'found', records, firstVisibleRevision: records[0]?.revision ?? BigInt(state.events.length) };
  }

  /** Whether reads of its stream still return this record (the retention rules of `readStream`). */
  isVisibleInStream(record: LogRecord, now = Date.now()): boolean {
    const retention = this.retention(record.streamName);
    if (retention.truncateBefore !== undefined && record.revision < retention.truncateBefore) return false;
    if (retention.maxCount !== undefined && record.revision <= this.lastRevision(record.streamName) - BigInt(retention.maxCount)) {
      return false;
    }
    if (retention.maxAgeSeconds !== undefined) {
      const oldestKept = BigInt(now) * TICKS_PER_MILLISECOND - BigInt(retention.maxAgeSeconds) * TICKS_PER_SECOND;
      if (record.createdTicks < oldestKept) return false;
    }
    return true;
  }

  /**
   * What a read asking for resolved links makes of a link (StorageReaderWorker.ResolveLinkToEvent):
   * undefined when its data does not start with a revision (it is then read as a plain event), else
   * the event it points at, or no target when that is gone or hidden from reads of its stream.
   */
  resolveLink(link: LogRecord, now = Date.now()): { target: LogRecord | undefined } | undefined {
    const payload = Buffer.from(link.data).toString('utf8');
    const separator = payload.indexOf('@');
    const revisionText = separator < 0 ? payload : payload.slice(0, separator);
    if (!/^\d+$/.test(revisionText)) return undefined;
    if (separator < 0) return { target: undefined };
    const state = this.streams.get(payload.slice(separator + 1));
    const target = state && !state.tombstoned ? state.events[Number(revisionText)] : undefined;
    return { target: target && this.isVisibleInStream(target, now) ? target : undefined };
  }

  isTombstoned(streamName: string): boolean {
    return this.streams.get(streamName)?.tombstoned ?? false;
  }

  /** Revision below which a stream's events are hidden from stream reads (`$tb` of its metadata). */
  truncateBefore(streamName: string): bigint | undefined {
    return this.retention(streamName).truncateBefore;
  }

  private retention(streamName: string): StreamRetention {
    const metadata = this.streams.get(metastreamOf(streamName))?.events.at(-1);
    if (!metadata) return {};
    const text = Buffer.from(metadata.data).toString('utf8');
    // `$tb` by hand: JSON.parse would round DeletedStream (2^63 - 1) to 2^63.
    const truncateBefore = /"\$tb"\s*:\s*(\d+)/.exec(text)?.[1];
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // Unreadable metadata sets no limit, as on the real node.
    }
    return {
      truncateBefore: truncateBefore === undefined ? undefined : BigInt(truncateBefore),
      maxCount: positiveInteger(parsed.$maxCount),
      maxAgeSeconds: positiveInteger(parsed.$maxAge),
    };
  }

  private refuseDelete(streamName: string, expected: ExpectedVersion): WriteOutcome | undefined {
    // A fresh id can never be mistaken for an idempotent retry, exactly as the real writer does for deletes.
    const check = this.checkCommit(streamName, expected, [randomUUID()]);
    switch (check.decision) {
      case 'deleted':
        return { kind: 'stream-deleted' };
      case 'wrong-expected-version':
        return { kind: 'wrong-expected-version', currentRevision: revisionOrUndefined(check.currentVersion), expected };
      case 'idempotent':
      case 'ok':
        return undefined;
    }
  }

  private checkCommit(streamName: string, expected: ExpectedVersion, eventIds: string[]): CommitCheck {
    const state = this.streams.get(streamName);
    if (state?.tombstoned) return { decision: 'deleted' };
    const currentVersion = this.lastRevision(streamName);
    const softDeleted = this.isSoftDeleted(streamName);

    if (expected === 'stream_exists') {
      if (softDeleted) return { decision: 'deleted' };
      if (currentVersion < 0n && this.lastRevision(metastreamOf(streamName)) < 0n) {
        return { decision: 'wrong-expected-version', currentVersion };
      }
    }

    if (expected === 'any' || expected === 'stream_exists') {
      let lastRevision: bigint | undefined;
      for (const [index, id] of eventIds.entries()) {
        const location = this.eventLocations.get(id);
        if (!location || location.streamName !== streamName) {
          return index === 0
            ? { decision: 'ok', currentVersion, softDeleted }
            : { decision: 'wrong-expected-version', currentVersion };
        }
        lastRevision = location.revision;
      }
      return lastRevision === undefined
        ? { decision: 'ok', currentVersion, softDeleted }
        : { decision: 'idempotent', lastRevision };
    }

    const expectedVersion = expected === 'no_stream' ? NO_EVENTS : expected;
    if (expectedVersion < currentVersion) {
      // Behind the stream: only a byte-for-byte retry of events already in place is accepted.
      let revision = expectedVersion;
      for (const id of eventIds) {
        revision += 1n;
        if (state?.events[Number(revision)]?.id === id) continue;
        if (revision !== expectedVersion + 1n) return { decision: 'wrong-expected-version', currentVersion };
        if (expected === 'no_stream' && softDeleted) return { decision: 'ok', currentVersion, softDeleted };
        return { decision: 'wrong-expected-version', currentVersion };
      }
      return revision === expectedVersion
        ? { decision: 'wrong-expected-version', currentVersion }
        : { decision: 'idempotent', lastRevision: revision };
    }
    if (expectedVersion > currentVersion) return { decision: 'wrong-expected-version', currentVersion };
    return { decision: 'ok', currentVersion, softDeleted };
  }

  private softUndelete(streamName: string, recreateFrom: bigint): void {
    const metastream = metastreamOf(streamName);
    const current = this.streams.get(metastream)?.events.at(-1);
    if (!current) return;
    let metadata: unknown;
    try {
      metadata = JSON.parse(Buffer.from(current.data).toString('utf8'));
    } catch {
      // The real writer leaves unreadable metadata alone, and so the stream stays deleted.
      return;
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return;
    const json = JSON.stringify({ ...metadata, $tb: Number(recreateFrom) });
    this.write(metastream, this.lastRevision(metastream) + 1n, {
      id: randomUUID(),
      type: STREAM_METADATA_EVENT_TYPE,
      contentType: 'application/json',
      data: Buffer.from(json, 'utf8'),
      customMetadata: new Uint8Array(),
    });
  }

  private isSoftDeleted(streamName: string): boolean {
    return this.truncateBefore(streamName) === DELETED_STREAM_REVISION;
  }

  private lastRevision(streamName: string): bigint {
    const state = this.streams.get(streamName);
    if (state?.tombstoned) return DELETED_STREAM_REVISION;
    return BigInt(state?.events.length ?? 0) - 1n;
  }

  private stream(streamName: string): StreamState {
    let state = this.streams.get(streamName);
    if (!state) {
      state = { events: [], tombstoned: false };
      this.streams.set(streamName, state);
    }
    return state;
  }

  private write(streamName: string, revision: bigint, event: ProposedEvent): LogRecord {
    const record: LogRecord = {
      ...event,
      position: this.nextPosition,
      streamName,
      revision,
      createdTicks: BigInt(Date.now()) * TICKS_PER_MILLISECOND,
    };
    if (this.file) appendFileSync(this.file, `${JSON.stringify(toPersisted(record))}\n`);
    this.index(record);
    return record;
  }

  private index(record: LogRecord): void {
    this.records.push(record);
    const state = this.stream(record.streamName);
    if (record.revision === DELETED_STREAM_REVISION) state.tombstoned = true;
    else state.events[Number(record.revision)] = record;
    this.eventLocations.set(record.id, { streamName: record.streamName, revision: record.revision });
    this.nextPosition =
      record.position +
      RECORD_HEADER_BYTES +
      BigInt(record.data.length + record.customMetadata.length + record.type.length + record.streamName.length);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export function metastreamOf(streamName: string): string {
  return `$$${streamName}`;
}

function originalStreamOf(streamName: string): string | undefined {
  return streamName.startsWith('$$') ? streamName.slice(2) : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

function revisionOrUndefined(version: bigint): bigint | undefined {
  return version < 0n ? undefined : version;
}

function toPersisted(record: LogRecord): PersistedRecord {
  return {
    p: record.position.toString(),
    s: record.streamName,
    r: record.revision.toString(),
    i: record.id,
    t: record.type,
    ct: record.contentType,
    d: Buffer.from(record.data).toString('base64'),
    m: Buffer.from(record.customMetadata).toString('base64'),
    c: record.createdTicks.toString(),
  };
}

function fromPersisted(persisted: PersistedRecord): LogRecord {
  return {
    position: BigInt(persisted.p),
    streamName: persisted.s,
    revision: BigInt(persisted.r),
    id: persisted.i,
    type: persisted.t,
    contentType: persisted.ct,
    data: Buffer.from(persisted.d, 'base64'),
    customMetadata: Buffer.from(persisted.m, 'base64'),
    createdTicks: BigInt(persisted.c),
  };
}
