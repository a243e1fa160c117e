import { comparePositions, readPages, type EventStore, type LogPosition, type LogSubscription, type RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import { giveWayToCheckpoints } from './database';
import type { ReadModelDb, ReadModelSchema } from './schema';

const DEFAULT_BATCH_SIZE = 500;
/**
 * Events of a backlog read, decoded and folded at a time inside one of its transactions. A rebuild
 * that held a whole 10,000-event transaction's events at once kept them alive past the young
 * generation: V8 copied and promoted tens of megabytes per transaction only to collect them later.
 */
const EVENTS_PER_FOLD = 500;
const NOT_YET = Symbol('not yet');

/**
 * Settles after the I/O callbacks already queued: what a subscription holds in memory comes first.
 *
 * Also awaited between two batches of a backlog. On SQLite every read and write is synchronous behind
 * its promises, so a backlog would otherwise be folded in one unbroken run of microtasks: the thread's
 * timers and messages (a projection worker's position reports, its stop) would wait for all of it,
 * and each pending turn would keep the events raced against it reachable until then (the projection
 * worker grew by about 1 KiB per event read during a burst of cancellations).
 */
function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setImmediate(() => resolve(NOT_YET)));
}

/** True when `a` lies strictly before `b` (no position is the start of the log). */
function isBefore(a: LogPosition | undefined, b: LogPosition | undefined): boolean {
  if (b === undefined) return false;
  return a === undefined || comparePositions(a, b) < 0;
}

/** A projection runner as the live fold sees it: where it stands, how it folds a batch, what to tell it. */
export interface LiveFoldMember {
  readonly name: string;
  readonly position: LogPosition | undefined;
  /**
   * Folds `events` (all after `after`, where the member's checkpoint stands inside `trx`) and moves
   * the checkpoint to the last of them, inside `trx`.
   */
  foldInto(trx: Transaction<ReadModelSchema>, events: RecordedEvent[], after: LogPosition | undefined): Promise<void>;
  /** After the commit: the read models hold every event up to `last`, `count` more than before. */
  folded(last: LogPosition, count: number): void;
  /** The member was dropped from the fold after this error; its supervisor starts it again. */
  failed(error: unknown): void;
}

export interface LiveFoldOptions {
  /** The most events folded in one transaction. Default 500. */
  batchSize?: number;
  /**
   * The least time from the start of one batch's fold to the start of the next, in milliseconds.
   * Default 0: each batch as soon as the last one has committed. A batch read after a quiet spell
   * waits for nothing; events that come in sooner are folded together, in one commit instead of one
   * each (each commit rewrites a page of every table and index it touches).
   */
  commitSpacingMs?: number;
  /** Told of each batch once it has committed into every member (see `LiveBatchCommitted`). */
  onBatchCommitted?: (batch: LiveBatchCommitted) => void;
}

/** One live batch, committed into every member in one transaction. */
export interface LiveBatchCommitted {
  events: number;
  /** From the start of its transaction to its commit: the fold of every member and the commit. */
  foldMs: number;
  /**
   * From its oldest event's `recordedAt` to the commit: how long the read models lagged the log for
   * that event, by the machine's wall clock in whole milliseconds (never below 0). The embedded log
   * stamps `recordedAt` as it writes the event, before its commit's sync, so this includes the log's
   * commit as well as the fold's wait and work; EventStoreDB stamps it on its own clock.
   */
  visibleAfterMs: number;
}

/**
 * Every caught-up projection of a process, following the live log together: the log is read and
 * decoded once per batch (not once per projection) and the batch is folded into every projection in
 * one transaction, each projection's checkpoint moved by its own compare-and-set in it. When that
 * transaction fails, each projection folds the batch alone in its own transaction, so the one that
 * fails is dropped (and restarted by its supervisor) while the others go on.
 *
 * A runner joins once it has caught up; if the fold has already read further, the missing events are
 * folded for that runner alone before it joins, with the fold paused, so nothing is skipped or doubled.
 */
export class LiveFold {
  private readonly members = new Set<LiveFoldMember>();
  /** The last position the fold has handed to its members. */
  private position: LogPosition | undefined;
  private subscription: LogSubscription | undefined;
  private following: Promise<void> | undefined;
  /** Joins, leaves and batches run one at a time, so each sees the fold's position standing still. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly batchSize: number;
  private readonly commitSpacingMs: number;
  private readonly onBatchCommitted: ((batch: LiveBatchCommitted) => void) | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    options: LiveFoldOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.commitSpacingMs = options.commitSpacingMs ?? 0;
    this.onBatchCommitted = options.onBatchCommitted;
  }

  /** Adds a caught-up runner; resolves once it is at the fold's position and receives every batch after it. */
  join(member: LiveFoldMember): Promise<void> {
    return this.serialized(async () => {
      if (this.closed) return;
      if (!this.following) this.follow(member.position);
      else if (isBefore(member.position, this.position)) await this.catchUp(member);
      this.members.add(member);
    });
  }

  /** Resolves once no batch in flight still folds into `member`. */
  leave(member: LiveFoldMember): Promise<void> {
    return this.serialized(async () => {
      this.members.delete(member);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscription?.close();
    await this.following;
    await this.exclusive;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(work);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  private follow(from: LogPosition | undefined): void {
    this.position = from;
    const subscription = this.store.subscribeToAll(from ? { fromPosition: from } : {});
    this.subscription = subscription;
    this.following = this.readBatches(subscription).catch((error: unknown) => {
      if (this.closed) return;
      // The log could not be read: every member restarts from its checkpoint and joins a fresh fold.
      void this.serialized(async () => {
        const dropped = [...this.members];
        this.members.clear();
        this.following = undefined;
        this.subscription = undefined;
        await subscription.close();
        for (const member of dropped) member.failed(error);
      });
    });
  }

  /** Batches of whatever the subscription already holds: one event when quiet, up to `batchSize` under load. */
  private async readBatches(subscription: LogSubscription): Promise<void> {
    const events = subscription[Symbol.asyncIterator]();
    let next = events.next();
    for (;;) {
      const first = await next;
      if (first.done || this.closed) return;
      const batch = [first.value];
      next = events.next();
      // One turn per batch ends it at what the subscription already holds; once it is folded, the
      // fold waits for another turn (see nextTurn).
      const turn = nextTurn();
      let ended = false;
      while (batch.length < this.batchSize) {
        const ready = await Promise.race([next, turn]);
        if (ready === NOT_YET) break;
        if (ready.done) {
          ended = true;
          break;
        }
        batch.push(ready.value);
        next = events.next();
      }
      if (this.closed) return;
      const foldStarted = performance.now();
      await this.serialized(() => this.foldBatch(batch));
      if (ended) return;
      await nextTurn();
      // A timer counts from the event loop's clock, which can be a few milliseconds behind when it is
      // set after a long turn, so it may fire early: the spacing is measured again until it has passed.
      for (let spacingLeft = this.spacingLeft(foldStarted); spacingLeft > 0 && !this.closed; spacingLeft = this.spacingLeft(foldStarted)) {
        await new Promise((resolve) => setTimeout(resolve, spacingLeft));
      }
    }
  }

  private spacingLeft(foldStarted: number): number {
    return this.commitSpacingMs - (performance.now() - foldStarted);
  }

  private async foldBatch(batch: RecordedEvent[]): Promise<void> {
    const shares = [...this.members]
      .map((member) => ({ member, events: batch.filter((event) => isBefore(member.position, event.position)) }))
      .filter(({ events }) => events.length > 0);
    this.position = batch.at(-1)!.position;
    if (shares.length === 0) return;
    const started = performance.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const { member, events } of shares) await member.foldInto(trx, events, member.position);
      });
    } catch {
      await this.foldEachAlone(shares);
      return;
    }
    const committed = performance.now();
    for (const { member, events } of shares) member.folded(events.at(-1)!.position, events.length);
    this.onBatchCommitted?.({
      events: batch.length,
      foldMs: committed - started,
      visibleAfterMs: Math.max(0, Date.now() - Date.parse(batch[0]!.recordedAt)),
    });
  }

  private async foldEachAlone(shares: { member: LiveFoldMember; events: RecordedEvent[] }[]): Promise<void> {
    for (const { member, events } of shares) {
      try {
        await this.db.transaction().execute((trx) => member.foldInto(trx, events, member.position));
        member.folded(events.at(-1)!.position, events.length);
      } catch (error) {
        this.members.delete(member);
        member.failed(error);
      }
    }
  }

  /** Folds, for `member` alone, what the fold has already handed to the others. */
  private async catchUp(member: LiveFoldMember): Promise<void> {
    if (this.position) await foldHistory(this.store, this.db, [member], this.position, this.batchSize);
  }
}

/**
 * Folds the log after the members' common position up to `until` (inclusive) into every member:
 * one read and one transaction per `eventsPerTransaction` events for all of them, as a rebuild of
 * every projection does. Inside a transaction the events are read and folded `eventsPerFold` at a
 * time, each member's checkpoint moved with each of them; a transaction that fails leaves nothing of
 * itself, and `folded` and `onCommit` hear of a transaction only once it has committed.
 *
 * @example
 *   await foldHistory(store, db, runners, head, 10_000, (last, count) => bar.increment(count));
 */
export async function foldHistory(
  store: EventStore,
  db: ReadModelDb,
  members: readonly LiveFoldMember[],
  until: LogPosition,
  eventsPerTransaction: number,
  onCommit?: (last: LogPosition, count: number) => void,
  eventsPerFold = EVENTS_PER_FOLD,
): Promise<void> {
  const first = members[0];
  if (!first) return;
  if (members.some((member) => isBefore(member.position, first.position) || isBefore(first.position, member.position))) {
    throw new Error(`foldHistory: ${members.map((member) => member.name).join(', ')} do not stand at one position`);
  }
  let committed = first.position;
  // One read of the log for the whole fold, so a store may read ahead of it (`readAhead`).
  const log = eventsAfter(store, committed);
  try {
    while (isBefore(committed, until)) {
      let last = committed;
      let count = 0;
      // The first events are read while a checkpointer given the gap starts the write-ahead log over.
      const gaveWay = giveWayToCheckpoints(db);
      let events = await log.take(until, Math.min(eventsPerFold, eventsPerTransaction));
      await gaveWay;
      if (events.length === 0) return;
      await db.transaction().execute(async (trx) => {
        while (events.length > 0) {
          for (const member of members) await member.foldInto(trx, events, last);
          last = events.at(-1)!.position;
          count += events.length;
          events = count < eventsPerTransaction ? await log.take(until, Math.min(eventsPerFold, eventsPerTransaction - count)) : [];
        }
      });
      for (const member of members) member.folded(last!, count);
      onCommit?.(last!, count);
      committed = last;
      await nextTurn();
    }
  } finally {
    await log.close();
  }
}

/** The log after `after` (its start when undefined), taken a few events at a time. */
function eventsAfter(store: EventStore, after: LogPosition | undefined) {
  const options = { ...(after ? { fromPosition: after } : {}), readAhead: true };
  const pages = readPages(store, options)[Symbol.asyncIterator]();
  let page: RecordedEvent[] = [];
  let next = 0;
  let ended = false;
  return {
    /** Up to `maxCount` of the next events, none after `until`. */
    async take(until: LogPosition, maxCount: number): Promise<RecordedEvent[]> {
      const taken: RecordedEvent[] = [];
      while (!ended && taken.length < maxCount) {
        if (next === page.length) {
          const read = await pages.next();
          if (read.done) {
            ended = true;
            break;
          }
          [page, next] = [read.value, 0];
          continue;
        }
        const event = page[next++]!;
        if (isBefore(until, event.position)) ended = true;
        // fromPosition is inclusive: the event at `after` was folded already.
        else if (isBefore(after, event.position)) taken.push(event);
      }
      return taken;
    },
    async close(): Promise<void> {
      await pages.return?.();
    },
  };
}

