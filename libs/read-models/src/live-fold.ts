import { comparePositions, type EventStore, type LogPosition, type LogSubscription, type RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ReadModelDb, ReadModelSchema } from './schema';

const DEFAULT_BATCH_SIZE = 500;
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
  /** Folds `events` (all after `position`) and moves the checkpoint, inside `trx`. */
  foldInto(trx: Transaction<ReadModelSchema>, events: RecordedEvent[]): Promise<void>;
  /** After the commit: `events` are in the read models. */
  folded(events: RecordedEvent[]): void;
  /** The member was dropped from the fold after this error; its supervisor starts it again. */
  failed(error: unknown): void;
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

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {}

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
      await this.serialized(() => this.foldBatch(batch));
      if (ended) return;
      await nextTurn();
    }
  }

  private async foldBatch(batch: RecordedEvent[]): Promise<void> {
    const shares = [...this.members]
      .map((member) => ({ member, events: batch.filter((event) => isBefore(member.position, event.position)) }))
      .filter(({ events }) => events.length > 0);
    this.position = batch.at(-1)!.position;
    if (shares.length === 0) return;
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const { member, events } of shares) await member.foldInto(trx, events);
      });
    } catch {
      await this.foldEachAlone(shares);
      return;
    }
    for (const { member, events } of shares) member.folded(events);
  }

  private async foldEachAlone(shares: { member: LiveFoldMember; events: RecordedEvent[] }[]): Promise<void> {
    for (const { member, events } of shares) {
      try {
        await this.db.transaction().execute((trx) => member.foldInto(trx, events));
        member.folded(events);
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
 * one read and one transaction per batch for all of them, as a rebuild of every projection does.
 *
 * @example
 *   await foldHistory(store, db, runners, head, 1000, (events) => bar.increment(events.length));
 */
export async function foldHistory(
  store: EventStore,
  db: ReadModelDb,
  members: readonly LiveFoldMember[],
  until: LogPosition,
  batchSize: number,
  onBatch?: (events: RecordedEvent[]) => void,
): Promise<void> {
  const first = members[0];
  if (!first) return;
  if (members.some((member) => isBefore(member.position, first.position) || isBefore(first.position, member.position))) {
    throw new Error(`foldHistory: ${members.map((member) => member.name).join(', ')} do not stand at one position`);
  }
  while (isBefore(first.position, until)) {
    const events: RecordedEvent[] = [];
    for await (const event of store.readAll({ fromPosition: first.position, maxCount: batchSize + 1 })) {
      if (!isBefore(first.position, event.position)) continue;
      if (isBefore(until, event.position)) break;
      events.push(event);
      if (events.length === batchSize) break;
    }
    if (events.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (const member of members) await member.foldInto(trx, events);
    });
    for (const member of members) member.folded(events);
    onBatch?.(events);
    await nextTurn();
  }
}
