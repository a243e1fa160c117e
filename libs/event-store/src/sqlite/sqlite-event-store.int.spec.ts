import {
  ANY,
  CommitSignal,
  DuplicateEventIdError,
  EventStoreUnavailableError,
  NO_STREAM,
  SqliteEventStore,
  WrongExpectedRevisionError,
  type CommittedBatch,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type SqliteEventStoreOptions,
} from '@csp/event-store';
import { describeEventStoreConformance } from '@csp/testing';
import Database from 'better-sqlite3';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';

const WRITERS = ['this-thread', 'own-thread'] as const;

for (const writer of WRITERS) {
  describeEventStoreConformance(`SQLite, committed by ${writer}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sqlite-event-store-'));
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { writer });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}

describe.each(WRITERS)('SqliteEventStore, committed by %s', (writer) => {
  let dir: string;
  const opened: SqliteEventStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqlite-event-store-'));
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const open = (options: SqliteEventStoreOptions = {}, file = join(dir, 'events.sqlite')) => {
    const store = SqliteEventStore.open(file, { writer, ...options });
    opened.push(store);
    return store;
  };

  it('answers an append EventStoreUnavailableError while another process holds the write lock, and appends once it is free', async () => {
    const file = join(dir, 'events.sqlite');
    const store = open({ busyTimeoutMs: 50 }, file);
    const otherProcess = new Database(file);
    otherProcess.exec('BEGIN IMMEDIATE');
    const event = { id: uuid(), type: 'Locked', data: {} };

    await expect(store.appendToStream('locked-1', [event], { expectedRevision: NO_STREAM })).rejects.toBeInstanceOf(EventStoreUnavailableError);

    otherProcess.exec('ROLLBACK');
    otherProcess.close();
    await store.appendToStream('locked-1', [event], { expectedRevision: NO_STREAM });
    expect((await store.readStream('locked-1')).map((recorded) => recorded.id)).toEqual([event.id]);
  });

  it('keeps the log readable by its owner only', async () => {
    const file = join(dir, 'private', 'events.sqlite');
    const store = open({}, file);
    await store.appendToStream('private-1', [{ id: uuid(), type: 'Private', data: {} }], { expectedRevision: NO_STREAM });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(`${file}-wal`)).mode & 0o077).toBe(0);
    expect((await stat(join(dir, 'private'))).mode & 0o077).toBe(0);
  });

  it('creates missing parent directories and starts with an empty log', async () => {
    const store = open({}, join(dir, 'nested', 'deeper', 'events.sqlite'));

    await expect(store.headPosition()).resolves.toBeUndefined();
    await expect(collect(store.readAll())).resolves.toEqual([]);
  });

  it('keeps appended events across close and reopen of the same file', async () => {
    const first = open();
    const opening = [newEvent(), newEvent()];
    await first.appendToStream('order-1', opening, { expectedRevision: NO_STREAM });
    const before = await first.readStream('order-1');
    const headBefore = await first.headPosition();
    await first.close();

    const reopened = open();
    expect(await reopened.readStream('order-1')).toEqual(before);
    expect(await reopened.headPosition()).toEqual(headBefore);
    const next = await reopened.appendToStream('order-1', [newEvent()], { expectedRevision: 1n });
    expect(next.nextExpectedRevision).toBe(2n);
    expect(next.position.commit).toBeGreaterThan(headBefore!.commit);
  });

  it('writes queued appends before closing', async () => {
    const store = open();
    const event = newEvent();
    const appended = store.appendToStream('order-1', [event], { expectedRevision: NO_STREAM });
    await store.close();

    await expect(appended).resolves.toMatchObject({ nextExpectedRevision: 0n });
    await expect(store.appendToStream('order-1', [newEvent()], { expectedRevision: ANY })).rejects.toThrow(/closed/);
    expect((await open().readStream('order-1')).map((e) => e.id)).toEqual([event.id]);
  });

  it('lets a second instance on the same file see appends through its subscription', async () => {
    const writer = open();
    const reader = open({ pollIntervalMs: 20 });
    const [e1, e2, e3] = [newEvent(), newEvent(), newEvent()];
    await writer.appendToStream('order-1', [e1], { expectedRevision: NO_STREAM });
    const subscription = reader.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ id: e1.id });

    // The reader is now waiting at the head; only polling the file can show it the writer's appends.
    const live = [iterator.next(), iterator.next()];
    await writer.appendToStream('order-1', [e2], { expectedRevision: 0n });
    await writer.appendToStream('customer-1', [e3], { expectedRevision: NO_STREAM });

    const delivered = await within(Promise.all(live), 2000);
    expect(delivered.map((result) => (result.value as RecordedEvent).id)).toEqual([e2.id, e3.id]);
    await subscription.close();
  });

  it('wakes its own waiting subscribers on append without waiting for a poll', async () => {
    const store = open({ pollIntervalMs: 60_000 });
    const subscription = store.subscribeToAll();
    const next = subscription[Symbol.asyncIterator]().next();
    const event = newEvent();

    await store.appendToStream('order-1', [event], { expectedRevision: NO_STREAM });

    expect((await within(next, 1000)).value).toMatchObject({ id: event.id });
    await subscription.close();
  });

  it('starts a subscription beyond the head strictly after its position once the log gets there', async () => {
    const store = open();
    const subscription = store.subscribeToAll({ fromPosition: { commit: 3n, prepare: 3n } });
    const next = subscription[Symbol.asyncIterator]().next();

    for (let i = 0; i < 5; i++) await store.appendToStream('order-1', [newEvent()], { expectedRevision: ANY });

    expect((await within(next, 1000)).value).toMatchObject({ position: { commit: 4n, prepare: 4n } });
    await subscription.close();
  });

  describe('write-ahead log checkpoints in the background', () => {
    const file = () => join(dir, 'events.sqlite');
    // About 6 MB: well past SQLite's threshold of 1,000 pages, where a commit would copy them itself.
    const appendSixMegabytes = (store: SqliteEventStore) =>
      Promise.all(
        Array.from({ length: 2000 }, (_, index) =>
          store.appendToStream(`bulk-${index}`, [{ id: uuid(), type: 'Padded', data: { padding: 'x'.repeat(3000) } }], {
            expectedRevision: NO_STREAM,
          }),
        ),
      );
    const countPadded = async (store: SqliteEventStore) => {
      let count = 0;
      for await (const event of store.readAll()) if (event.type === 'Padded') count++;
      return count;
    };

    it('leaves the copy out of the commits; closing copies what is left, losing nothing', async () => {
      const writer = open({ walCheckpoints: { everyMs: 60_000 } }, file());
      const sizeBefore = (await stat(file())).size;

      await appendSixMegabytes(writer);

      expect((await stat(file())).size).toBe(sizeBefore);
      expect((await stat(`${file()}-wal`)).size).toBeGreaterThan(6_000_000);
      await writer.close();
      expect((await stat(file())).size).toBeGreaterThan(6_000_000);
      expect(await countPadded(open({}, file()))).toBe(2000);
    });

    it('copies the write-ahead log into the file from its own thread while the store is open', async () => {
      const writer = open({ walCheckpoints: { everyMs: 50 } }, file());

      await appendSixMegabytes(writer);

      const deadline = Date.now() + 5000;
      while ((await stat(file())).size < 6_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await stat(file())).size).toBeGreaterThan(6_000_000);
      expect(await countPadded(writer)).toBe(2000);
    });
  });

  describe('group commit', () => {
    it('commits concurrent appends in one transaction, each checked against its own expected revision', async () => {
      const batches: CommittedBatch[] = [];
      const store = open({ onBatchCommitted: (batch) => batches.push(batch) });
      const existing = Array.from({ length: 20 }, (_, i) => `order-existing-${i}`);
      for (const stream of existing) await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
      batches.length = 0;

      type Attempt = { stream: string; events: EventToAppend[]; expectedRevision: ExpectedRevision; succeeds: boolean };
      const attempts: Attempt[] = [
        ...existing.map((stream) => ({ stream, events: [newEvent(), newEvent()], expectedRevision: 0n, succeeds: true })),
        ...existing.map((stream) => ({ stream, events: [newEvent()], expectedRevision: 7n, succeeds: false })),
        ...existing.map((stream) => ({ stream, events: [newEvent()], expectedRevision: NO_STREAM, succeeds: false })),
        ...Array.from({ length: 20 }, (_, i) => ({
          stream: `order-new-${i}`,
          events: [newEvent()],
          expectedRevision: NO_STREAM,
          succeeds: true,
        })),
        ...Array.from({ length: 20 }, () => ({
          stream: 'customer-shared',
          events: [newEvent()],
          expectedRevision: ANY,
          succeeds: true,
        })),
      ];
      const shuffled = interleave(attempts);

      const outcomes = await Promise.allSettled(
        shuffled.map(({ stream, events, expectedRevision }) => store.appendToStream(stream, events, { expectedRevision })),
      );

      // A writer thread is handed the first 32 at once, then 32 more while it commits them (see the next test).
      expect(batches.map((batch) => batch.appends)).toEqual(writer === 'this-thread' ? [shuffled.length] : [32, 32, shuffled.length - 64]);
      shuffled.forEach((attempt, i) => {
        const outcome = outcomes[i]!;
        expect(outcome.status).toBe(attempt.succeeds ? 'fulfilled' : 'rejected');
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
      });
      const recorded = new Set(ids(await collect(store.readAll())));
      for (const attempt of shuffled) {
        for (const event of attempt.events) expect(recorded.has(event.id)).toBe(attempt.succeeds);
      }
      expect(await store.readStream('customer-shared')).toHaveLength(20);
      for (const stream of existing) expect(await store.readStream(stream)).toHaveLength(3);
    });

    it('hands a writer thread 32 appends of a busy turn at once, a second 32 while it commits, the rest once one is answered', async () => {
      const batches: CommittedBatch[] = [];
      const store = open({ onBatchCommitted: (batch) => batches.push(batch) });
      const sent: string[] = [];

      await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.appendToStream(`order-${i}`, [newEvent()], { expectedRevision: NO_STREAM }).then(() => sent.push(`order-${i}`))),
      );

      expect(batches.map((batch) => batch.appends)).toEqual(writer === 'this-thread' ? [100] : [32, 32, 36]);
      // Answered batch by batch, in the order they were appended.
      expect(sent).toEqual(Array.from({ length: 100 }, (_, i) => `order-${i}`));
      expect((await collect(store.readAll())).map((event) => event.streamName)).toEqual(sent);
    });

    it('appends issued one after another each get their own transaction', async () => {
      const batches: CommittedBatch[] = [];
      const store = open({ onBatchCommitted: (batch) => batches.push(batch) });

      await store.appendToStream('order-1', [newEvent()], { expectedRevision: NO_STREAM });
      await store.appendToStream('order-1', [newEvent()], { expectedRevision: 0n });

      expect(batches.map((batch) => batch.appends)).toEqual([1, 1]);
    });

    it('commits the appends callers make as their appends resolve together (on this thread: before the next turn of the event loop)', async () => {
      const batches: CommittedBatch[] = [];
      const store = open({ onBatchCommitted: (batch) => batches.push(batch) });
      const happened: string[] = [];

      await Promise.all(
        ['1', '2', '3'].map(async (n) => {
          await store.appendToStream(`order-${n}`, [newEvent()], { expectedRevision: NO_STREAM });
          if (n === '1') setImmediate(() => happened.push('next turn'));
          // A few awaits deep, as a command handler's continuation is.
          await Promise.resolve();
          await store.appendToStream(`subscription-${n}`, [newEvent()], { expectedRevision: NO_STREAM });
          happened.push(`subscription-${n} committed`);
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));

      expect(batches.map((batch) => batch.appends)).toEqual([3, 3]);
      // The writer thread's answer arrives in a turn of its own, so there the next turn comes between.
      const committed = ['subscription-1 committed', 'subscription-2 committed', 'subscription-3 committed'];
      expect(happened).toEqual(writer === 'this-thread' ? [...committed, 'next turn'] : ['next turn', ...committed]);
    });

    it('rejects only the append that reuses an id taken earlier in the same batch', async () => {
      const store = open();
      const shared = newEvent();
      const [first, second] = await Promise.allSettled([
        store.appendToStream('order-1', [shared], { expectedRevision: NO_STREAM }),
        store.appendToStream('order-2', [newEvent(), shared], { expectedRevision: NO_STREAM }),
      ]);

      expect(first.status).toBe('fulfilled');
      expect(second).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateEventIdError) });
      expect(await store.readStream('order-2')).toEqual([]);
    });
  });

  it('signals its CommitSignal after each commit, from whichever thread commits, and a follower wakes for it', async () => {
    const signal = new CommitSignal();
    const store = open({ commitSignal: signal });
    let wakeUps = 0;
    const woken = () => new Promise<void>((resolve) => {
      const unfollow = signal.follow(() => {
        wakeUps += 1;
        unfollow();
        resolve();
      });
    });

    const first = woken();
    await store.appendToStream('order-1', [newEvent()], { expectedRevision: NO_STREAM });
    await within(first, 2000);
    const second = woken();
    await store.appendToStream('order-1', [newEvent()], { expectedRevision: 0n });
    await within(second, 2000);
    expect(wakeUps).toBe(2);
  });

  describe('appends to several streams at once', () => {
    it('writes every part in one batch, in order, one result per stream, the hash chain intact', async () => {
      const batches: CommittedBatch[] = [];
      const store = open({ onBatchCommitted: (batch) => batches.push(batch) });
      const order = [newEvent('OrderPlaced')];
      const subscriptions = [[newEvent('SubscriptionStarted'), newEvent('InstallmentBilled')], [newEvent('SubscriptionStarted')]];
      const results = await store.appendToStreams!([
        { streamName: 'order-1', events: order, options: { expectedRevision: NO_STREAM } },
        { streamName: 'subscription-1', events: subscriptions[0]!, options: { expectedRevision: NO_STREAM } },
        { streamName: 'subscription-2', events: subscriptions[1]!, options: { expectedRevision: NO_STREAM } },
      ]);

      expect(results.map((result) => [result.nextExpectedRevision, result.position.commit])).toEqual([
        [0n, 1n],
        [1n, 3n],
        [0n, 4n],
      ]);
      expect(batches.map((batch) => batch.appends)).toEqual([1]);
      expect(ids(await collect(store.readAll()))).toEqual(ids([...order, ...subscriptions.flat()]));
      expect(await store.verifyLog()).toMatchObject({ intact: true, eventsChecked: 4 });
    });

    it('writes none of the parts when one fails, while an append beside it in the batch goes through and the chain stays intact', async () => {
      const store = open();
      await store.appendToStream('subscription-2', [newEvent()], { expectedRevision: NO_STREAM });
      const beside = newEvent();
      const [group, single] = await Promise.allSettled([
        store.appendToStreams!([
          { streamName: 'order-1', events: [newEvent()], options: { expectedRevision: NO_STREAM } },
          { streamName: 'subscription-1', events: [newEvent(), newEvent()], options: { expectedRevision: NO_STREAM } },
          { streamName: 'subscription-2', events: [newEvent()], options: { expectedRevision: NO_STREAM } },
        ]),
        store.appendToStream('customer-1', [beside], { expectedRevision: NO_STREAM }),
      ]);

      expect(group).toMatchObject({ status: 'rejected', reason: expect.any(WrongExpectedRevisionError) });
      expect(group.status === 'rejected' && group.reason).toMatchObject({ streamName: 'subscription-2' });
      expect(single).toMatchObject({ status: 'fulfilled', value: { position: { commit: 2n } } });
      expect(await store.readStream('order-1')).toEqual([]);
      expect(await store.readStream('subscription-1')).toEqual([]);
      await store.appendToStream('customer-1', [newEvent()], { expectedRevision: 0n });
      expect(await store.verifyLog()).toMatchObject({ intact: true, eventsChecked: 3 });
    });

    it('answers a retry of the same parts (same ids) from the log, appending nothing', async () => {
      const store = open();
      const parts = [
        { streamName: 'order-1', events: [newEvent()], options: { expectedRevision: NO_STREAM } },
        { streamName: 'subscription-1', events: [newEvent()], options: { expectedRevision: NO_STREAM } },
      ];
      const first = await store.appendToStreams!(parts);
      const retry = await store.appendToStreams!(parts);

      expect(retry).toEqual(first);
      expect(await collect(store.readAll())).toHaveLength(2);
    });

    it('refuses a stream named twice, before anything is queued', async () => {
      const store = open();
      const twice = { streamName: 'order-1', events: [newEvent()], options: { expectedRevision: ANY } };
      await expect(store.appendToStreams!([twice, { ...twice, events: [newEvent()] }])).rejects.toThrow(TypeError);
      expect(await store.headPosition()).toBeUndefined();
    });
  });

  describe('event ids', () => {
    it('refuses ids reused outside an idempotent retry and appends nothing', async () => {
      const store = open();
      const [a, b, c] = [newEvent(), newEvent(), newEvent()];
      await store.appendToStream('order-1', [a, b], { expectedRevision: NO_STREAM });
      await store.appendToStream('order-1', [c], { expectedRevision: 1n });
      const append = (stream: string, events: EventToAppend[], expectedRevision: ExpectedRevision) =>
        store.appendToStream(stream, events, { expectedRevision });

      await expect(append('order-2', [a], NO_STREAM)).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(append('order-1', [a, b], 2n)).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(append('order-1', [b, a], ANY)).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(append('order-1', [a, newEvent()], NO_STREAM)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(append('order-1', [newEvent(), c], ANY)).rejects.toBeInstanceOf(DuplicateEventIdError);
      const repeated = newEvent();
      await expect(append('order-3', [repeated, repeated], NO_STREAM)).rejects.toBeInstanceOf(DuplicateEventIdError);

      expect(ids(await collect(store.readAll()))).toEqual(ids([a, b, c]));
    });

    it('recognises a retry whose ids were sent in upper case', async () => {
      const store = open();
      const event = newEvent();
      const first = await store.appendToStream('order-1', [event], { expectedRevision: NO_STREAM });

      const retry = { ...event, id: event.id.toUpperCase() };
      await expect(store.appendToStream('order-1', [retry], { expectedRevision: NO_STREAM })).resolves.toEqual(first);
    });

    it('rejects malformed input before touching the log', async () => {
      const store = open();
      const append = (events: EventToAppend[], expectedRevision: ExpectedRevision = ANY) =>
        store.appendToStream('order-1', events, { expectedRevision });

      await expect(append([{ id: 'not-a-uuid', type: 'T', data: {} }])).rejects.toThrow(/UUID/);
      await expect(append([{ id: uuid(), type: '', data: {} }])).rejects.toThrow(/type/);
      await expect(append([newEvent()], -1n)).rejects.toThrow(/expected revision/);
      await expect(store.appendToStream('', [newEvent()], { expectedRevision: ANY })).rejects.toThrow(/streamName/);
      await expect(collect(store.readAll({ maxCount: 1.5 }))).rejects.toThrow(/maxCount/);
      expect(await store.readStream('order-1')).toEqual([]);
    });
  });

  describe('paging', () => {
    it('reads and subscribes across many pages', async () => {
      const store = open({ readPageSize: 2 });
      const events = Array.from({ length: 7 }, (_, i) => newEvent('Numbered', { i }));
      for (const event of events) await store.appendToStream('order-1', [event], { expectedRevision: ANY });

      expect(ids(await collect(store.readAll()))).toEqual(ids(events));
      expect(ids(await collect(store.readAll({ maxCount: 5 })))).toEqual(ids(events.slice(0, 5)));
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      const delivered: RecordedEvent[] = [];
      for (let i = 0; i < events.length; i++) delivered.push((await iterator.next()).value as RecordedEvent);
      await subscription.close();
      expect(ids(delivered)).toEqual(ids(events));
    });

    it('gives readAll\'s events a page at a time, no page empty or longer than readPageSize', async () => {
      const store = open({ readPageSize: 3 });
      const events = Array.from({ length: 8 }, (_, i) => newEvent('Numbered', { i }));
      for (const [i, event] of events.entries()) await store.appendToStream(i % 2 ? 'order-1' : 'customer-1', [event], { expectedRevision: ANY });
      const pagesOf = async (options: Parameters<SqliteEventStore['readAllPages']>[0]) => {
        const pages: RecordedEvent[][] = [];
        for await (const page of store.readAllPages(options)) pages.push(page);
        return pages;
      };

      const all = await pagesOf({});
      expect(all.map((page) => page.length)).toEqual([3, 3, 2]);
      expect(all.flat()).toEqual(await collect(store.readAll()));
      const orders = await pagesOf({ streamPrefixes: ['order-'], maxCount: 3 });
      expect(orders.every((page) => page.length > 0)).toBe(true);
      expect(ids(orders.flat())).toEqual(ids(events.filter((_, i) => i % 2).slice(0, 3)));
    });

    describe('reading ahead in a thread of its own (readAhead)', () => {
      const appendNumbered = async (store: SqliteEventStore, count: number) => {
        const events = Array.from({ length: count }, (_, i) => newEvent('Numbered', { i }));
        for (const [i, event] of events.entries()) await store.appendToStream(`order-${i % 3}`, [event], { expectedRevision: ANY });
        return events;
      };

      it('reads the same events, from a position, up to a count, as the read on the caller\'s thread', async () => {
        const store = open({ readPageSize: 2, readAheadPastEvents: 3 });
        const events = await appendNumbered(store, 9);
        const all = await collect(store.readAll());
        const ahead = await collect(store.readAll({ readAhead: true }));

        expect(ahead).toEqual(all);
        expect(ids(ahead)).toEqual(ids(events));
        expect(ids(await collect(store.readAll({ readAhead: true, fromPosition: all[2]!.position })))).toEqual(ids(events.slice(2)));
        expect(ids(await collect(store.readAll({ readAhead: true, maxCount: 5 })))).toEqual(ids(events.slice(0, 5)));
      });

      it('reads what is appended while it reads', async () => {
        const store = open({ readPageSize: 2, readAheadPastEvents: 3 });
        const events = await appendNumbered(store, 4);
        const read: RecordedEvent[] = [];
        for await (const event of store.readAll({ readAhead: true })) {
          read.push(event);
          if (read.length === 1) events.push(...(await appendNumbered(store, 3)));
        }
        expect(ids(read)).toEqual(ids(events));
      });

      it('fails with the error SQLite gave its thread, after the events read before it', async () => {
        const store = open({ readPageSize: 2, readAheadPastEvents: 3 });
        await appendNumbered(store, 20);
        const otherProcess = new Database(join(dir, 'events.sqlite'));
        const read: RecordedEvent[] = [];
        try {
          // The thread has read its first pages; the next ones meet a log without its table.
          const reading = (async () => {
            for await (const event of store.readAll({ readAhead: true })) {
              read.push(event);
              if (read.length === 1) otherProcess.exec('DROP TABLE events');
            }
          })();
          await expect(reading).rejects.toMatchObject({ message: expect.stringContaining('no such table: events'), code: 'SQLITE_ERROR' });
          expect(read.length).toBeGreaterThan(1);
          expect(read.length).toBeLessThan(20);
        } finally {
          otherProcess.close();
        }
      });

      it('ends its thread when the reader stops early', async () => {
        const store = open({ readPageSize: 2, readAheadPastEvents: 3 });
        await appendNumbered(store, 9);
        const { Worker } = await import('node:worker_threads');
        const terminated = jest.spyOn(Worker.prototype, 'terminate');
        for await (const event of store.readAll({ readAhead: true })) {
          expect(event.type).toBe('Numbered');
          break;
        }
        expect(terminated).toHaveBeenCalledTimes(1);
        terminated.mockRestore();
      });
    });

    it('finds prefixed events separated by more non-matching events than one scan covers', async () => {
      const store = open();
      const [before, after] = [newEvent(), newEvent()];
      await store.appendToStream('order-1', [before], { expectedRevision: NO_STREAM });
      const filler = Array.from({ length: 12_000 }, () => newEvent('Filler', {}));
      await store.appendToStream('customer-1', filler, { expectedRevision: NO_STREAM });
      await store.appendToStream('order-1', [after], { expectedRevision: 0n });

      expect(ids(await collect(store.readAll({ streamPrefixes: ['order-'] })))).toEqual(ids([before, after]));
      const subscription = store.subscribeToAll({ streamPrefixes: ['order-'] });
      const iterator = subscription[Symbol.asyncIterator]();
      const delivered = [(await iterator.next()).value, (await iterator.next()).value] as RecordedEvent[];
      await subscription.close();
      expect(ids(delivered)).toEqual(ids([before, after]));
    });
  });
});

describe('SqliteEventStore, the writer thread', () => {
  let dir: string;
  let store: SqliteEventStore | undefined;
  let otherProcess: Database.Database | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqlite-writer-thread-'));
  });

  afterEach(async () => {
    if (otherProcess?.inTransaction) otherProcess.exec('ROLLBACK');
    otherProcess?.close();
    otherProcess = undefined;
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** A store whose writer thread waits for the write lock another connection holds until `release()`. */
  const lockedStore = (options: SqliteEventStoreOptions = {}) => {
    const file = join(dir, 'events.sqlite');
    store = SqliteEventStore.open(file, { writer: 'own-thread', busyTimeoutMs: 10_000, ...options });
    otherProcess = new Database(file);
    otherProcess.exec('BEGIN IMMEDIATE');
    return { store, release: () => otherProcess!.exec('ROLLBACK') };
  };

  it('waits for the disk (here: the write lock) without blocking the event loop of the caller', async () => {
    const { store, release } = lockedStore();
    const append = store.appendToStream('order-1', [newEvent()], { expectedRevision: NO_STREAM });
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // On this thread the busy wait would hold the timer back for the whole 10 s busy timeout.
    expect(performance.now() - started).toBeLessThan(1000);
    release();
    await expect(append).resolves.toMatchObject({ nextExpectedRevision: 0n });
  });

  it('commits what callers append while it holds a batch together, in the next batch', async () => {
    const batches: CommittedBatch[] = [];
    const { store, release } = lockedStore({ onBatchCommitted: (batch) => batches.push(batch) });
    const first = store.appendToStream('order-0', [newEvent()], { expectedRevision: NO_STREAM });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const meanwhile = Array.from({ length: 10 }, (_, i) => new Promise((resolve) => setTimeout(resolve, i)).then(() => store.appendToStream(`order-${i + 1}`, [newEvent()], { expectedRevision: NO_STREAM })));
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    await Promise.all([first, ...meanwhile]);
    expect(batches.map((batch) => batch.appends)).toEqual([1, 10]);
  });

  it('hands errors back with their class and fields: a revision conflict, a reused id', async () => {
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { writer: 'own-thread' });
    const taken = newEvent();
    await store.appendToStream('order-1', [taken], { expectedRevision: NO_STREAM });

    const conflict = await store.appendToStream('order-1', [newEvent()], { expectedRevision: 5n }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(WrongExpectedRevisionError);
    expect(conflict).toMatchObject({ streamName: 'order-1', expected: 5n, actual: 0n, message: 'Stream order-1: expected revision 5, actual 0' });
    const reused = await store.appendToStream('order-2', [taken], { expectedRevision: NO_STREAM }).catch((error: unknown) => error);
    expect(reused).toBeInstanceOf(DuplicateEventIdError);
    expect(reused).toMatchObject({ streamName: 'order-2', eventIds: [taken.id] });
    expect((reused as Error).message).toContain(taken.id);
  });

  it('a thread that ends during a commit fails that append as not known to be written; the next append starts a new thread', async () => {
    const { store, release } = lockedStore();
    const held = store.appendToStream('order-1', [newEvent()], { expectedRevision: NO_STREAM });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const thread = (store as unknown as { writerThread: { worker: { terminate(): Promise<number> } } }).writerThread;
    await thread.worker.terminate();
    await expect(held).rejects.toThrow(/log writer thread ended .*whether it was written is not known/);
    release();
    const event = newEvent();
    await store.appendToStream('order-2', [event], { expectedRevision: NO_STREAM });
    expect(ids(await store.readStream('order-2'))).toEqual([event.id]);
  });

  it('close() waits for the batch the thread holds and for the appends queued behind it', async () => {
    const file = join(dir, 'events.sqlite');
    const { store: held, release } = lockedStore();
    const appends = [0, 1, 2].map((i) => held.appendToStream(`order-${i}`, [newEvent()], { expectedRevision: NO_STREAM }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const more = held.appendToStream('order-3', [newEvent()], { expectedRevision: NO_STREAM });
    const closed = held.close();
    setTimeout(release, 50);
    await closed;
    store = undefined;
    await Promise.all([...appends, more]);
    const reopened = SqliteEventStore.open(file);
    try {
      expect((await collect(reopened.readAll())).map((event) => event.streamName)).toEqual(['order-0', 'order-1', 'order-2', 'order-3']);
    } finally {
      await reopened.close();
    }
  });
});

function newEvent(type = 'Tested', data: EventToAppend['data'] = { value: uuid() }): EventToAppend {
  return { id: uuid(), type, data };
}

function ids(events: { id: string }[]): string[] {
  return events.map((e) => e.id);
}

async function collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const collected: RecordedEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Deterministic mixing, so correct and wrong appends sit side by side in the batch. */
function interleave<T>(items: T[]): T[] {
  return items.map((item, i) => ({ item, key: (i * 37) % items.length })).sort((a, b) => a.key - b.key).map(({ item }) => item);
}
