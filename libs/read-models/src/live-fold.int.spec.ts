import { comparePositions, SqliteEventStore, type EventStore, type LogPosition, type RecordedEvent } from '@csp/event-store';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { sql, type Transaction } from 'kysely';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { foldHistory, LiveFold, type LiveBatchCommitted, type LiveFoldMember } from './live-fold';
import { ProjectionRunner, readCheckpoint, type ProjectFn } from './projection-runner';
import type { ReadModelDb, ReadModelSchema } from './schema';

/** Each runner writes the positions it folds into this scratch table, inside the fold's transaction. */
const folding =
  (name: string, failOn?: string): ProjectFn =>
  async (trx: Transaction<ReadModelSchema>, event: RecordedEvent) => {
    if (event.type === failOn) throw new Error(`${name} cannot fold ${event.type}`);
    await sql`INSERT INTO fold_test (runner, position) VALUES (${name}, ${Number(event.position.commit)})`.execute(trx);
  };

/**
 * A member that notes, for each batch it folds, how many turns of the event loop have passed since the
 * first batch: each fold schedules one `setImmediate`, which runs only when the loop turns.
 */
function turnCountingMember(until: LogPosition): { member: LiveFoldMember; turnsSeenByBatch: number[]; reached: Promise<void> } {
  let turns = 0;
  let position: LogPosition | undefined;
  const turnsSeenByBatch: number[] = [];
  let reachedUntil!: () => void;
  const reached = new Promise<void>((resolve) => (reachedUntil = resolve));
  const member: LiveFoldMember = {
    name: 'turn-counting',
    get position() {
      return position;
    },
    foldInto: async () => {
      turnsSeenByBatch.push(turns);
    },
    folded: (last) => {
      position = last;
      setImmediate(() => turns++);
      if (comparePositions(position, until) >= 0) reachedUntil();
    },
    failed: (error) => {
      throw error;
    },
  };
  return { member, turnsSeenByBatch, reached };
}

/** A member that notes when each batch's fold began and how many events it held, and resolves each `folded` it is asked for. */
function timingMember(): { member: LiveFoldMember; batches: { startedAt: number; events: number }[]; foldedCount: (count: number) => Promise<void> } {
  let position: LogPosition | undefined;
  let total = 0;
  const batches: { startedAt: number; events: number }[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  const member: LiveFoldMember = {
    name: 'timing',
    get position() {
      return position;
    },
    foldInto: async (_trx, events) => {
      batches.push({ startedAt: performance.now(), events: events.length });
    },
    folded: (last, count) => {
      position = last;
      total += count;
      for (const waiter of waiting.filter(({ count: wanted }) => total >= wanted)) waiter.resolve();
    },
    failed: (error) => {
      throw error;
    },
  };
  const foldedCount = (count: number) => (total >= count ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ count, resolve })));
  return { member, batches, foldedCount };
}

describe.each(readModelDialects)('LiveFold on $name', (dialect) => {
  let read: OpenedReadModels;
  let db: ReadModelDb;
  let store: EventStore;
  let dir: string;
  let fold: LiveFold;
  const runners: ProjectionRunner[] = [];

  const append = async (...types: string[]): Promise<void> => {
    for (const type of types) {
      await store.appendToStream(`fold-${randomUUID()}`, [{ id: randomUUID(), type, data: {} }], { expectedRevision: 'no_stream' });
    }
  };
  const runner = (name: string, failOn?: string): ProjectionRunner => {
    const created = new ProjectionRunner(store, db, { name, project: folding(name, failOn), liveFold: fold });
    runners.push(created);
    return created;
  };
  const folded = async (name: string): Promise<number[]> => {
    const rows = await sql<{ position: number | string }>`SELECT position FROM fold_test WHERE runner = ${name} ORDER BY position`.execute(db);
    return rows.rows.map((row) => Number(row.position));
  };
  const logPositions = async (): Promise<number[]> => {
    const positions: number[] = [];
    for await (const event of store.readAll()) positions.push(Number(event.position.commit));
    return positions;
  };

  beforeEach(async () => {
    read = await dialect.open();
    db = read.db;
    await sql`CREATE TABLE fold_test (runner TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (runner, position))`.execute(db);
    dir = await mkdtemp(join(tmpdir(), 'csp-live-fold-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    fold = new LiveFold(store, db);
  });

  afterEach(async () => {
    for (const created of runners.splice(0)) await created.stop();
    await fold.close();
    await store.close();
    await read.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('folds every live event into every member once, in order, each checkpoint with its own rows', async () => {
    await append('Before', 'Before');
    const first = runner('first');
    const second = runner('second');
    await Promise.all([first.start(), second.start()]);
    await append('Live', 'Live', 'Live');
    const head = (await store.headPosition())!;
    expect(await first.waitFor(head, 5000)).toBe(true);
    expect(await second.waitFor(head, 5000)).toBe(true);

    const all = await logPositions();
    expect(await folded('first')).toEqual(all);
    expect(await folded('second')).toEqual(all);
    expect(await readCheckpoint(db, 'first')).toEqual(head);
    expect(await readCheckpoint(db, 'second')).toEqual(head);
  });

  it('brings a member that joins late up to the fold before it takes part, with no gap and nothing twice', async () => {
    const early = runner('early');
    await early.start();
    await append('A', 'B', 'C');
    expect(await early.waitFor((await store.headPosition())!, 5000)).toBe(true);

    // Caught up on its own to an older head: the fold has read on since.
    const late = new ProjectionRunner(store, db, { name: 'late', project: folding('late'), until: (await store.headPosition())! });
    runners.push(late);
    await late.start();
    await append('D', 'E');
    expect(await early.waitFor((await store.headPosition())!, 5000)).toBe(true);
    await fold.join(late);
    expect(late.position).toEqual(await store.headPosition());
    await append('F');
    const head = (await store.headPosition())!;
    expect(await late.waitFor(head, 5000)).toBe(true);
    expect(await early.waitFor(head, 5000)).toBe(true);

    const all = await logPositions();
    expect(await folded('late')).toEqual(all);
    expect(await folded('early')).toEqual(all);
  });

  it('drops only the member whose fold fails; the others go on in their own transactions', async () => {
    const healthy = runner('healthy');
    const broken = runner('broken', 'Poison');
    const errors: unknown[] = [];
    const reported = new Promise<void>((resolve) =>
      broken.onError((error) => {
        errors.push(error);
        resolve();
      }),
    );
    await Promise.all([healthy.start(), broken.start()]);
    await append('Fine');
    const beforePoison = (await store.headPosition())!;
    expect(await broken.waitFor(beforePoison, 5000)).toBe(true);

    await append('Poison', 'Fine');
    const head = (await store.headPosition())!;
    expect(await healthy.waitFor(head, 5000)).toBe(true);
    expect(await folded('healthy')).toEqual(await logPositions());
    await reported;
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/broken cannot fold Poison/);
    // Nothing of the failed batch is kept for the broken member: its rows and checkpoint stop before it.
    expect(await folded('broken')).toEqual([Number(beforePoison.commit)]);
    expect(await readCheckpoint(db, 'broken')).toEqual(beforePoison);

    await append('Fine');
    const later = (await store.headPosition())!;
    expect(await healthy.waitFor(later, 5000)).toBe(true);
    expect(await broken.waitFor(later, 300)).toBe(false);
  });

  it('folds a backlog a few events at a time inside each transaction, and tells a member of a transaction once committed', async () => {
    const backlog = Array.from({ length: 20 }, () => ({ id: randomUUID(), type: 'Backlog', data: {} }));
    await store.appendToStream(`fold-${randomUUID()}`, backlog, { expectedRevision: 'no_stream' });
    const positions: LogPosition[] = [];
    for await (const event of store.readAll()) positions.push(event.position);
    const head = positions.at(-1)!;
    const folds: { after: LogPosition | undefined; events: number }[] = [];
    const commits: number[] = [];
    const reported: number[] = [];
    let position: LogPosition | undefined;
    const member: LiveFoldMember = {
      name: 'chunked',
      get position() {
        return position;
      },
      foldInto: async (_trx, events, after) => {
        folds.push({ after, events: events.length });
      },
      folded: (last, count) => {
        position = last;
        commits.push(count);
      },
      failed: (error) => {
        throw error;
      },
    };

    await foldHistory(store, db, [member], head, 7, (_last, count) => reported.push(count), 3);

    expect(folds.map(({ events }) => events)).toEqual([3, 3, 1, 3, 3, 1, 3, 3]);
    // Each part moves the checkpoint on from where the one before left it, inside the transaction.
    expect(folds.map(({ after }) => after)).toEqual([undefined, 3, 6, 7, 10, 13, 14, 17].map((count) => (count === undefined ? undefined : positions[count - 1])));
    expect(commits).toEqual([7, 7, 6]);
    expect(reported).toEqual([7, 7, 6]);
    expect(position).toEqual(head);
  });

  it('folds exactly the events after its position up to `until`, in the same parts, from a store that reads ahead in a thread', async () => {
    await store.appendToStream(`fold-${randomUUID()}`, Array.from({ length: 20 }, () => ({ id: randomUUID(), type: 'Backlog', data: {} })), {
      expectedRevision: 'no_stream',
    });
    const positions: LogPosition[] = [];
    for await (const event of store.readAll()) positions.push(event.position);
    const readingAhead = SqliteEventStore.open(join(dir, 'events.db'), { readPageSize: 4, readAheadPastEvents: 1 });
    const threadsEnded = jest.spyOn(Worker.prototype, 'terminate');
    const parts: LogPosition[][] = [];
    let position: LogPosition | undefined = positions[4];
    const member: LiveFoldMember = {
      name: 'read-ahead',
      get position() {
        return position;
      },
      foldInto: async (_trx, events) => {
        parts.push(events.map((event) => event.position));
      },
      folded: (last) => {
        position = last;
      },
      failed: (error) => {
        throw error;
      },
    };
    let threadsStopped: number;
    try {
      await foldHistory(readingAhead, db, [member], positions[16]!, 7, undefined, 3);
    } finally {
      threadsStopped = threadsEnded.mock.calls.length;
      threadsEnded.mockRestore();
      await readingAhead.close();
    }

    expect(parts.flat()).toEqual(positions.slice(5, 17));
    expect(parts.map((part) => part.length)).toEqual([3, 3, 1, 3, 2]);
    expect(position).toEqual(positions[16]);
    expect(threadsStopped).toBe(1);
  });

  it('keeps nothing of a transaction whose later part fails to fold, and nothing is reported for it', async () => {
    await append('A', 'B', 'C', 'D', 'E', 'F', 'Poison', 'G');
    const positions: LogPosition[] = [];
    for await (const event of store.readAll()) positions.push(event.position);
    const broken = new ProjectionRunner(store, db, { name: 'broken', project: folding('broken', 'Poison'), until: positions.at(-1)! });
    const reported: number[] = [];

    // Five events a transaction, two a part: F is folded in the second transaction's first part, Poison fails its second.
    await expect(foldHistory(store, db, [broken], positions.at(-1)!, 5, (_last, count) => reported.push(count), 2)).rejects.toThrow(/broken cannot fold Poison/);

    expect(await folded('broken')).toEqual(positions.slice(0, 5).map((position) => Number(position.commit)));
    expect(await readCheckpoint(db, 'broken')).toEqual(positions[4]);
    expect(broken.position).toEqual(positions[4]);
    expect(reported).toEqual([5]);
  });

  // A backlog on SQLite is read and folded without any real I/O: unless the fold yields, the thread's
  // timers and messages (the projection worker's position reports) wait for the whole backlog, and
  // every event read stays reachable until the loop turns.
  describe('with commits spaced', () => {
    const SPACING_MS = 300;

    /** One event, then two more appended as soon as the first is folded: what the member and the fold's observer saw. */
    async function foldTwoBatchesSpaced(): Promise<{ timing: ReturnType<typeof timingMember>; committed: LiveBatchCommitted[] }> {
      const timing = timingMember();
      const committed: LiveBatchCommitted[] = [];
      const spaced = new LiveFold(store, db, { commitSpacingMs: SPACING_MS, onBatchCommitted: (batch) => committed.push(batch) });
      try {
        await spaced.join(timing.member);
        await append('First');
        await timing.foldedCount(1);
        await append('Second', 'Third');
        await timing.foldedCount(3);
      } finally {
        await spaced.close();
      }
      return { timing, committed };
    }

    it('folds what comes within the spacing after a fold together, once the spacing has passed', async () => {
      const { timing } = await foldTwoBatchesSpaced();
      expect(timing.batches.map(({ events }) => events)).toEqual([1, 2]);
      // The spacing counts from the start of a batch's fold; the member's clock starts inside the
      // transaction, whose BEGIN took longer for the first batch than for the second on loaded CI
      // machines (296.6 and, on PostgreSQL, 286.9 ms apart measured there). Without the spacing the
      // second batch would start within a few milliseconds of the first.
      expect(timing.batches[1]!.startedAt - timing.batches[0]!.startedAt).toBeGreaterThanOrEqual(SPACING_MS - 50);
    });

    it('tells of each committed batch its events, its fold time, and how long after its oldest event was written it became visible', async () => {
      const { committed } = await foldTwoBatchesSpaced();
      expect(committed.map(({ events }) => events)).toEqual([1, 2]);
      for (const batch of committed) expect(batch.foldMs).toBeGreaterThan(0);
      // The first was folded as soon as it was written; the second waited out most of the spacing
      // (it was written just after the first fold began), and that wait is its lag behind the log.
      expect(committed[0]!.visibleAfterMs).toBeLessThan(SPACING_MS / 2);
      expect(committed[1]!.visibleAfterMs).toBeGreaterThanOrEqual(SPACING_MS / 2);
      expect(committed[1]!.visibleAfterMs).toBeLessThan(SPACING_MS * 3);
    });

    it('folds an event that comes after a quiet spell at once', async () => {
      const timing = timingMember();
      const spaced = new LiveFold(store, db, { commitSpacingMs: SPACING_MS });
      let appendedAt = 0;
      try {
        await spaced.join(timing.member);
        await append('First');
        await timing.foldedCount(1);
        await new Promise((resolve) => setTimeout(resolve, SPACING_MS + 100));
        appendedAt = performance.now();
        await append('AfterQuiet');
        await timing.foldedCount(2);
      } finally {
        await spaced.close();
      }
      expect(timing.batches[1]!.startedAt - appendedAt).toBeLessThan(SPACING_MS - 50);
    });
  });

  it('lets the event loop turn between the batches of a backlog, live and catching up', async () => {
    const backlog = Array.from({ length: 20 }, () => ({ id: randomUUID(), type: 'Backlog', data: {} }));
    await store.appendToStream(`fold-${randomUUID()}`, backlog, { expectedRevision: 'no_stream' });
    const head = (await store.headPosition())!;

    const catchingUp = turnCountingMember(head);
    await foldHistory(store, db, [catchingUp.member], head, 5);
    expect(catchingUp.turnsSeenByBatch).toEqual([0, 1, 2, 3]);

    const live = turnCountingMember(head);
    const smallBatches = new LiveFold(store, db, { batchSize: 5 });
    try {
      await smallBatches.join(live.member);
      await live.reached;
    } finally {
      await smallBatches.close();
    }
    expect(live.turnsSeenByBatch).toEqual([0, 1, 2, 3]);
  });
});
