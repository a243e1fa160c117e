import type Database from 'better-sqlite3';
import type { AppendResult, ExpectedRevision } from '../event-store.port';
import type { LogPosition } from '../log-position';
import { chainHash, LENGTH_PREFIXED_LINK, lengthPrefixedChainHash } from '../integrity/log-integrity';
import { checkAppend, revisionMatches } from '../append-rules';
import type { CheckedEvent } from '../checked-batch';

/** Data and metadata as the JSON text the events table stores. */
export type SerializedEvent = CheckedEvent<string>;

/** One caller's append as the writer receives it: checked and serialized already. */
export interface AppendRequest {
  streamName: string;
  expectedRevision: ExpectedRevision;
  events: SerializedEvent[];
}

/** Appends to several streams that succeed or fail together. */
export interface AppendGroup {
  streams: AppendRequest[];
}

export type BatchItem = AppendRequest | AppendGroup;

export type AppendOutcome = { ok: true; result: AppendResult | AppendResult[] } | { ok: false; error: unknown };

/** The end of the hash chain while a batch is written. */
interface ChainTip {
  nextPosition: bigint;
  headHash: string;
  moved: boolean;
}

/**
 * How an append learns whether its ids are recorded already: `by insert` lets the events table's
 * unique index answer (no lookup when none is, the common case); `looked up` reads each id first,
 * to tell a retry of an earlier append from a reused id.
 */
type IdCheck = 'by insert' | 'looked up';

interface IdentityRow {
  log_id: string;
  head_position: bigint;
  head_hash: string;
}

interface RecordedIdRow {
  stream_name: string;
  revision: bigint;
  position: bigint;
}

interface StreamHeadRow {
  revision: bigint;
  position: bigint;
}

/**
 * Writes batches of appends to the events table over one connection, in whichever thread owns it:
 * a batch is one IMMEDIATE transaction (one fsync), each append inside its own savepoint and checked
 * against its own expected revision, so a conflicting append fails alone.
 */
export class SqliteLogWriter {
  /** Throws when the whole batch failed (lock timeout, full disk at commit); otherwise one outcome per append. */
  readonly commit: (batch: readonly BatchItem[]) => AppendOutcome[];

  private readonly insertEvent: Database.Statement;
  private readonly selectRecordedId: Database.Statement;
  private readonly selectStreamHead: Database.Statement;
  private readonly selectIdentity: Database.Statement;
  private readonly updateChainHead: Database.Statement;
  private readonly selectNextPosition: Database.Statement;
  private readonly appendInSavepoint: (item: BatchItem, chain: ChainTip, ids: IdCheck) => AppendResult | AppendResult[];

  constructor(db: Database.Database) {
    this.insertEvent = db.prepare(
      'INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, recorded_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectIdentity = db.prepare('SELECT log_id, head_position, head_hash FROM log_identity WHERE singleton = 1');
    this.updateChainHead = db.prepare('UPDATE log_identity SET head_position = ?, head_hash = ? WHERE singleton = 1');
    // AUTOINCREMENT's next value, known before the insert so the position can go into the hash.
    this.selectNextPosition = db.prepare(
      "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), coalesce((SELECT max(position) FROM events), 0)) + 1 AS position",
    );
    this.selectRecordedId = db.prepare('SELECT stream_name, revision, position FROM events WHERE event_id = ?');
    this.selectStreamHead = db.prepare('SELECT revision, position FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1');

    // Nested better-sqlite3 transactions become savepoints: one append's failure rolls back
    // only its own rows while the batch's transaction goes on.
    this.appendInSavepoint = db.transaction((item: BatchItem, chain: ChainTip, ids: IdCheck) =>
      'streams' in item ? item.streams.map((part) => this.applyAppend(part, chain, ids)) : this.applyAppend(item, chain, ids),
    );
    const appendOne = (item: BatchItem, chain: ChainTip): AppendResult | AppendResult[] => {
      // A group's later part may fail after an earlier one moved the chain on: the savepoint takes
      // back the rows, this takes back the chain.
      const before = { ...chain };
      try {
        return this.appendInSavepoint(item, chain, 'by insert');
      } catch (error) {
        Object.assign(chain, before);
        // Its savepoint is rolled back; the append runs again, now telling a retry from a reused id.
        if (db.inTransaction && isEventIdTaken(error)) {
          try {
            return this.appendInSavepoint(item, chain, 'looked up');
          } catch (again) {
            Object.assign(chain, before);
            throw again;
          }
        }
        throw error;
      }
    };
    const commitBatch = db.transaction((batch: readonly BatchItem[]) => {
      // Read once per batch and recorded once at its end: every append of the batch links on from here.
      const chain = this.chainTip();
      const outcomes = batch.map((pending): AppendOutcome => {
        try {
          return { ok: true, result: appendOne(pending, chain) };
        } catch (error) {
          // SQLite may abort the whole transaction (disk full, I/O error); carrying on would
          // commit the remaining appends one by one, outside the batch.
          if (!db.inTransaction) throw error;
          return { ok: false, error };
        }
      });
      if (chain.moved) this.updateChainHead.run(chain.nextPosition - 1n, chain.headHash);
      return outcomes;
    });
    // IMMEDIATE takes the write lock up front, so revisions checked inside stay valid until commit.
    this.commit = commitBatch.immediate;
  }

  /**
   * Where the next event goes and what it links to. The chain goes on from the head the log last
   * recorded, not from its last row: an append after rows were cut from the tail links to the
   * vanished event, and verification shows the cut.
   */
  private chainTip(): ChainTip {
    return {
      nextPosition: (this.selectNextPosition.get() as { position: bigint }).position,
      headHash: (this.selectIdentity.get() as IdentityRow).head_hash,
      moved: false,
    };
  }

  /**
   * Runs inside the batch transaction, in its own savepoint: idempotency first (as EventStoreDB
   * does), then the revision check. Moves `chain` on only once every row of the append is written.
   * When the revision matches and `ids` is `by insert`, no id is looked up: an insert that meets a
   * recorded id fails, and the append is run again with `looked up`.
   */
  private applyAppend(pending: AppendRequest, chain: ChainTip, ids: IdCheck): AppendResult {
    const { streamName, expectedRevision, events } = pending;
    const head = this.selectStreamHead.get(streamName) as StreamHeadRow | undefined;
    if (ids === 'by insert' && events.length > 0 && revisionMatches(expectedRevision, head?.revision)) {
      return this.writeEvents(streamName, events, head, chain);
    }
    const recorded = events.map(({ id }) => {
      const row = this.selectRecordedId.get(id) as RecordedIdRow | undefined;
      return row && { streamName: row.stream_name, revision: row.revision, position: toPosition(row.position) };
    });
    const replay = checkAppend(streamName, expectedRevision, head?.revision, events.map(({ id }) => id), recorded);
    if (replay) return replay;
    if (events.length === 0) {
      // Nothing to write; -1 stands for "no event yet", as EventStoreDB clients report it.
      return { nextExpectedRevision: head?.revision ?? -1n, position: toPosition(head?.position ?? 0n) };
    }
    return this.writeEvents(streamName, events, head, chain);
  }

  private writeEvents(streamName: string, events: SerializedEvent[], head: StreamHeadRow | undefined, chain: ChainTip): AppendResult {
    const recordedAt = new Date().toISOString();
    let revision = head ? head.revision + 1n : 0n;
    let position = chain.nextPosition;
    let previousHash = chain.headHash;
    for (const event of events) {
      const hash = eventHash(previousHash, position, streamName, revision, event.id, event.type, event.data, event.metadata, recordedAt);
      this.insertEvent.run(position, streamName, revision, event.id, event.type, event.data, event.metadata, recordedAt, hash);
      previousHash = hash;
      position += 1n;
      revision += 1n;
    }
    Object.assign(chain, { nextPosition: position, headHash: previousHash, moved: true });
    return { nextExpectedRevision: revision - 1n, position: toPosition(position - 1n) };
  }
}

/** An event's stored fields in the order its link covers them. */
type LinkedFields = readonly [position: bigint, streamName: string, revision: bigint, id: string, type: string, data: string, metadata: string, recordedAt: string];

/** The link the log writes for an event from now on (see `lengthPrefixedChainHash`). */
export function eventHash(previous: string, ...fields: LinkedFields): string {
  return lengthPrefixedChainHash(previous, fields);
}

/** What an event's stored link `stored` should be, in the form it was written in (JSON-array links before length-prefixed ones existed). */
export function expectedEventHash(stored: string, previous: string, ...fields: LinkedFields): string {
  return stored.startsWith(LENGTH_PREFIXED_LINK) ? lengthPrefixedChainHash(previous, fields) : chainHash(previous, fields);
}

export function toPosition(position: bigint): LogPosition {
  return { commit: position, prepare: position };
}

/** The insert met an event id the log holds already (the events table's unique index on it). */
function isEventIdTaken(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes('events.event_id');
}
