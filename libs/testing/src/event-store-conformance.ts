import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedRevisionError,
  comparePositions,
  logIntegrityOf,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type LogPosition,
  type RecordedEvent,
} from '@csp/event-store';
import { v4 as uuid } from 'uuid';

export interface EventStoreUnderTest {
  store: EventStore;
  /** Closes the store and removes whatever the factory created. */
  cleanup: () => Promise<void>;
}

/** Per-step wait for a subscription; generous for a remote store, tiny next to jest's timeout. */
const DELIVERY_TIMEOUT_MS = 5000;

/**
 * The behaviour every EventStore adapter must show. Each test gets a store from
 * `createStore`; the store may be shared with other tests and runs (an EventStoreDB
 * server), so tests write to fresh stream names and assert relative to positions they
 * observe, never to absolute ones.
 *
 * @example
 *   describeEventStoreConformance('SQLite', async () => {
 *     const dir = await mkdtemp(join(tmpdir(), 'log-'));
 *     const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
 *     return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true }); } };
 *   });
 */
export function describeEventStoreConformance(
  name: string,
  createStore: () => Promise<EventStoreUnderTest>,
): void {
  describe(`EventStore conformance: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await createStore());
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    const append = (streamName: string, events: EventToAppend[], expectedRevision: ExpectedRevision = ANY) =>
      store.appendToStream(streamName, events, { expectedRevision });

    describe('append and read', () => {
      it('round-trips id, type, data, metadata, revision and position', async () => {
        const stream = streamName();
        const added = newEvent('ItemAdded', {
          sku: 'SKU-1',
          quantity: 2,
          price: { amountMinor: 1999, currency: 'EUR' },
          tags: ['plain', 'ümlaut', '🚀'],
          note: null,
          gift: false,
          addedAt: '2025-01-31T23:59:59.999Z',
        });
        const removed = { ...newEvent('ItemRemoved', { sku: 'SKU-1' }), metadata: { correlationId: uuid(), userId: 'u-1' } };

        const result = await append(stream, [added, removed], NO_STREAM);
        const events = await store.readStream(stream);

        expect(events.map(content)).toEqual([
          { id: added.id, streamName: stream, revision: 0n, type: 'ItemAdded', data: added.data, metadata: {} },
          { id: removed.id, streamName: stream, revision: 1n, type: 'ItemRemoved', data: removed.data, metadata: removed.metadata },
        ]);
        expect(result.nextExpectedRevision).toBe(1n);
        expect(result.position).toEqual(events[1]!.position);
        expect(comparePositions(events[0]!.position, events[1]!.position)).toBeLessThan(0);
        for (const event of events) expect(Number.isNaN(Date.parse(event.recordedAt))).toBe(false);
      });

      it('reads [] for a stream that does not exist', async () => {
        await expect(store.readStream(streamName())).resolves.toEqual([]);
      });

      it('appends a batch atomically with consecutive revisions', async () => {
        const stream = streamName();
        await append(stream, [newEvent()], NO_STREAM);
        const batch = [newEvent(), newEvent(), newEvent()];

        const result = await append(stream, batch, 0n);

        const events = await store.readStream(stream);
        expect(events.slice(1).map((e) => [e.id, e.revision])).toEqual(batch.map((e, i) => [e.id, BigInt(i + 1)]));
        expect(result).toEqual({ nextExpectedRevision: 3n, position: events[3]!.position });
        expectStrictlyIncreasing(events.map((e) => e.position));
      });

      it('gives positions that increase strictly across streams in append order', async () => {
        const [first, second] = [streamName(), streamName()];
        const appended: { stream: string; events: EventToAppend[] }[] = [
          { stream: first, events: [newEvent(), newEvent()] },
          { stream: second, events: [newEvent()] },
          { stream: first, events: [newEvent()] },
          { stream: second, events: [newEvent(), newEvent()] },
        ];
        const results: AppendResult[] = [];
        for (const { stream, events } of appended) results.push(await append(stream, events));

        expectStrictlyIncreasing(results.map((r) => r.position));
        const recorded = [...(await store.readStream(first)), ...(await store.readStream(second))].sort((a, b) =>
          comparePositions(a.position, b.position),
        );
        expect(recorded.map((e) => e.id)).toEqual(appended.flatMap(({ events }) => events.map((e) => e.id)));
        expectStrictlyIncreasing(recorded.map((e) => e.position));
      });
    });

    describe('expected revision', () => {
      it('no_stream creates a stream and rejects an existing one, appending nothing', async () => {
        const stream = streamName();
        await expect(append(stream, [newEvent()], NO_STREAM)).resolves.toMatchObject({ nextExpectedRevision: 0n });

        await expectWrongRevision(append(stream, [newEvent(), newEvent()], NO_STREAM), stream, NO_STREAM, 0n);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('stream_exists rejects a missing stream and appends to an existing one', async () => {
        const stream = streamName();
        await expectWrongRevision(append(stream, [newEvent()], STREAM_EXISTS), stream, STREAM_EXISTS, NO_STREAM);
        expect(await store.readStream(stream)).toEqual([]);

        await append(stream, [newEvent()], NO_STREAM);
        await expect(append(stream, [newEvent()], STREAM_EXISTS)).resolves.toMatchObject({ nextExpectedRevision: 1n });
      });

      it('an exact revision must be the last revision of the stream', async () => {
        const stream = streamName();
        await expectWrongRevision(append(stream, [newEvent()], 0n), stream, 0n, NO_STREAM);
        await append(stream, [newEvent(), newEvent()], NO_STREAM);

        await expectWrongRevision(append(stream, [newEvent(), newEvent()], 0n), stream, 0n, 1n);
        await expectWrongRevision(append(stream, [newEvent()], 2n), stream, 2n, 1n);
        expect(await store.readStream(stream)).toHaveLength(2);

        await expect(append(stream, [newEvent()], 1n)).resolves.toMatchObject({ nextExpectedRevision: 2n });
      });

      it('any appends whether or not the stream exists', async () => {
        const stream = streamName();
        await expect(append(stream, [newEvent()], ANY)).resolves.toMatchObject({ nextExpectedRevision: 0n });
        await expect(append(stream, [newEvent()], ANY)).resolves.toMatchObject({ nextExpectedRevision: 1n });
      });

      it('an empty batch appends nothing but still checks the expected revision', async () => {
        const stream = streamName();
        await append(stream, [newEvent()], NO_STREAM);

        await expect(append(stream, [], 0n)).resolves.toMatchObject({ nextExpectedRevision: 0n });
        await expectWrongRevision(append(stream, [], 3n), stream, 3n, 0n);
        await expectWrongRevision(append(stream, [], NO_STREAM), stream, NO_STREAM, 0n);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('lets exactly one of concurrent appends with the same revision win', async () => {
        const stream = streamName();
        await append(stream, [newEvent()], NO_STREAM);
        const attempts = Array.from({ length: 5 }, (_, attempt) => [
          newEvent('Attempted', { attempt }),
          newEvent('Attempted', { attempt }),
        ]);

        const outcomes = await Promise.allSettled(attempts.map((events) => append(stream, events, 0n)));

        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        const events = await store.readStream(stream);
        expect(events.slice(1).map((e) => e.id)).toEqual(attempts[winners[0]!]!.map((e) => e.id));
      });

      it('lets exactly one of concurrent creations of a stream win', async () => {
        const stream = streamName();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 5 }, () => append(stream, [newEvent()], NO_STREAM)),
        );

        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(await store.readStream(stream)).toHaveLength(1);
      });
    });

    describe('idempotent re-append', () => {
      it('treats a retry with the same ids at the same expected revision as done, returning the first result', async () => {
        const stream = streamName();
        const opening = [newEvent(), newEvent()];
        const next = [newEvent()];
        const openingResult = await append(stream, opening, NO_STREAM);
        const nextResult = await append(stream, next, 1n);

        await expect(append(stream, opening, NO_STREAM)).resolves.toEqual(openingResult);
        await expect(append(stream, next, 1n)).resolves.toEqual(nextResult);

        const events = await store.readStream(stream);
        expect(events.map((e) => e.id)).toEqual([...opening, ...next].map((e) => e.id));
      });

      it('recognises a retried batch with expected revision any', async () => {
        const stream = streamName();
        const batch = [newEvent(), newEvent()];
        const first = await append(stream, batch, ANY);
        await append(stream, [newEvent()], ANY);

        await expect(append(stream, batch, ANY)).resolves.toEqual(first);
        expect(await store.readStream(stream)).toHaveLength(3);
      });
    });

    describe('readAll', () => {
      it('starts at fromPosition inclusive and honours maxCount and stream prefixes', async () => {
        const category = newCategory();
        const [orders, customers] = [`${category}-order-`, `${category}-customer-`];
        const [e1, e2, e3, e4] = [newEvent(), newEvent(), newEvent(), newEvent()];
        await append(`${orders}${uuid()}`, [e1, e2]);
        await append(`${customers}${uuid()}`, [e3]);
        await append(`${orders}${uuid()}`, [e4]);
        const p1 = await positionOf(store, e1.id, `${category}-`);
        const p2 = await positionOf(store, e2.id, `${category}-`);

        expect(ids(await collect(store.readAll({ fromPosition: p1, streamPrefixes: [orders] })))).toEqual(ids([e1, e2, e4]));
        expect(ids(await collect(store.readAll({ fromPosition: p2, streamPrefixes: [orders] })))).toEqual(ids([e2, e4]));
        expect(ids(await collect(store.readAll({ fromPosition: p1, streamPrefixes: [orders], maxCount: 2 })))).toEqual(
          ids([e1, e2]),
        );
        expect(
          ids(await collect(store.readAll({ fromPosition: p1, streamPrefixes: [orders, customers] }))),
        ).toEqual(ids([e1, e2, e3, e4]));
      });

      it('without a prefix reads every stream from the position on, in position order', async () => {
        const category = newCategory();
        const [e1, e2, e3] = [newEvent(), newEvent(), newEvent()];
        await append(`${category}-order-${uuid()}`, [e1]);
        await append(`${category}-customer-${uuid()}`, [e2, e3]);
        const p1 = await positionOf(store, e1.id, `${category}-`);

        const read: RecordedEvent[] = [];
        for await (const event of store.readAll({ fromPosition: p1 })) {
          read.push(event);
          if (event.id === e3.id) break;
        }

        expect(read[0]!.id).toBe(e1.id);
        expectStrictlyIncreasing(read.map((e) => e.position));
        expect(ids(read.filter((e) => e.streamName.startsWith(`${category}-`)))).toEqual(ids([e1, e2, e3]));
      });

      it('without options starts at the beginning of the log', async () => {
        const category = newCategory();
        const [e1, e2] = [newEvent(), newEvent()];
        await append(`${category}-order-${uuid()}`, [e1, e2]);

        const ours: RecordedEvent[] = [];
        for await (const event of store.readAll()) {
          if (event.streamName.startsWith(`${category}-`)) ours.push(event);
          if (ours.length === 2) break;
        }
        expect(ids(ours)).toEqual(ids([e1, e2]));
      });
    });

    describe('subscribeToAll', () => {
      it('delivers history from the start, then live events, in position order', async () => {
        const category = newCategory();
        const history = [newEvent(), newEvent(), newEvent()];
        await append(`${category}-order-${uuid()}`, history.slice(0, 2));
        await append(`${category}-customer-${uuid()}`, history.slice(2));
        const subscription = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
        const iterator = subscription[Symbol.asyncIterator]();

        const caughtUp = await take(iterator, 3);
        const live = [newEvent(), newEvent(), newEvent()];
        const waiting = take(iterator, 3);
        await append(`${category}-order-${uuid()}`, [live[0]!]);
        await Promise.all([
          append(`${category}-order-${uuid()}`, [live[1]!]),
          append(`${category}-customer-${uuid()}`, [live[2]!]),
        ]);
        const delivered = [...caughtUp, ...(await waiting)];
        await subscription.close();

        expect(ids(caughtUp)).toEqual(ids(history));
        expect(ids(delivered).sort()).toEqual(ids([...history, ...live]).sort());
        expect(delivered[3]!.id).toBe(live[0]!.id);
        expectStrictlyIncreasing(delivered.map((e) => e.position));
      });

      it('starts strictly after fromPosition', async () => {
        const category = newCategory();
        const stream = `${category}-order-${uuid()}`;
        const [e1, e2, e3] = [newEvent(), newEvent(), newEvent()];
        await append(stream, [e1, e2]);
        await append(`${category}-customer-${uuid()}`, [e3]);
        const p1 = await positionOf(store, e1.id, `${category}-`);

        const filtered = store.subscribeToAll({ fromPosition: p1, streamPrefixes: [`${category}-`] });
        expect(ids(await take(filtered[Symbol.asyncIterator](), 2))).toEqual(ids([e2, e3]));
        await filtered.close();

        const unfiltered = store.subscribeToAll({ fromPosition: p1 });
        const seen = await takeUntil(unfiltered[Symbol.asyncIterator](), (e) => e.id === e3.id);
        await unfiltered.close();
        expect(comparePositions(seen[0]!.position, p1)).toBeGreaterThan(0);
        expect(ids(seen.filter((e) => e.streamName.startsWith(`${category}-`)))).toEqual(ids([e2, e3]));
      });

      it('catches up while appends keep coming, with no gap and no duplicate', async () => {
        const category = newCategory();
        const streams = [`${category}-order-${uuid()}`, `${category}-customer-${uuid()}`];
        const expected: string[] = [];
        for (let i = 0; i < 6; i++) {
          const event = newEvent('Historic', { i });
          await append(streams[i % 2]!, [event]);
          expected.push(event.id);
        }
        const subscription = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
        const iterator = subscription[Symbol.asyncIterator]();

        const consumed = take(iterator, 18);
        for (let i = 0; i < 12; i++) {
          const event = newEvent('Live', { i });
          await append(streams[i % 2]!, [event]);
          expected.push(event.id);
          // Let the consumer run between some appends so it is sometimes behind, sometimes waiting.
          if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const received = await consumed;
        const sentinel = newEvent('Sentinel');
        await append(streams[0]!, [sentinel]);
        const afterwards = await take(iterator, 1);
        await subscription.close();

        expect(ids(received)).toEqual(expected);
        expect(ids(afterwards)).toEqual([sentinel.id]);
      });

      it('close ends the iteration, also while it waits for live events', async () => {
        const category = newCategory();
        const stream = `${category}-order-${uuid()}`;
        const subscription = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
        const received: string[] = [];
        const loop = (async () => {
          for await (const event of subscription) received.push(event.id);
        })();
        const first = newEvent();
        await append(stream, [first]);
        await eventually(() => received.length === 1);

        await subscription.close();
        await within(loop, 'the for-await loop did not end after close()');
        await append(stream, [newEvent()]);

        expect(received).toEqual([first.id]);
      });
    });

    describe('log integrity', () => {
      it('keeps one identity and a hash chain that verifies as intact, without showing the hash to readers', async () => {
        const integrity = logIntegrityOf(store);
        expect(integrity).toBeDefined();
        const identity = await integrity!.logIdentity();
        const stream = streamName();
        const appended = [newEvent('ConformanceChecked', { amount: 1234 }), newEvent()];
        const { position } = await append(stream, appended, NO_STREAM);

        const report = await integrity!.verifyLog();
        expect(report.intact).toBe(true);
        expect(report.eventsChecked).toBeGreaterThanOrEqual(2);
        expect(comparePositions(report.lastPosition!, position)).toBeGreaterThanOrEqual(0);
        expect(await integrity!.logIdentity()).toBe(identity);
        expect(identity).toMatch(/\S{8,}/);
        const read = await store.readStream(stream);
        expect(read.map((event) => [event.data, event.metadata])).toEqual([
          [{ amount: 1234 }, {}],
          [appended[1]!.data, {}],
        ]);
      });
    });

    it('headPosition is at or after the latest append and moves forward with the log', async () => {
      const first = await append(streamName(), [newEvent()]);
      const headAfterFirst = await store.headPosition();
      const second = await append(streamName(), [newEvent()]);
      const headAfterSecond = await store.headPosition();

      expect(headAfterFirst).toBeDefined();
      expect(comparePositions(headAfterFirst!, first.position)).toBeGreaterThanOrEqual(0);
      expect(comparePositions(headAfterSecond!, second.position)).toBeGreaterThanOrEqual(0);
      expect(comparePositions(headAfterSecond!, headAfterFirst!)).toBeGreaterThan(0);
    });
  });
}

function newEvent(type = 'ConformanceChecked', data: JsonObject = { value: uuid() }): EventToAppend {
  return { id: uuid(), type, data };
}

function streamName(): string {
  return `conformance-${uuid()}`;
}

/** A prefix no other test or run uses, so prefix-filtered reads see only this test's events. */
function newCategory(): string {
  return `conformance${uuid().replace(/-/g, '')}`;
}

function content(event: RecordedEvent) {
  const { id, streamName, revision, type, data, metadata } = event;
  return { id, streamName, revision, type, data, metadata };
}

function ids(events: { id: string }[]): string[] {
  return events.map((e) => e.id);
}

async function positionOf(store: EventStore, eventId: string, prefix: string): Promise<LogPosition> {
  for await (const event of store.readAll({ streamPrefixes: [prefix] })) {
    if (event.id === eventId) return event.position;
  }
  throw new Error(`event ${eventId} not found in the log`);
}

async function collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const collected: RecordedEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

async function take(iterator: AsyncIterator<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  while (taken.length < count) {
    const next = await within(iterator.next(), `only ${taken.length} of ${count} events were delivered`);
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

async function takeUntil(
  iterator: AsyncIterator<RecordedEvent>,
  isLast: (event: RecordedEvent) => boolean,
): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  for (;;) {
    const next = await within(iterator.next(), `the awaited event was not delivered after ${taken.length} events`);
    if (next.done) return taken;
    taken.push(next.value);
    if (isLast(next.value)) return taken;
  }
}

/** Fails fast with a clear message instead of hanging until jest's timeout. */
async function within<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function eventually(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${DELIVERY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function expectWrongRevision(
  attempt: Promise<unknown>,
  streamName: string,
  expected: ExpectedRevision,
  actual: bigint | typeof NO_STREAM,
): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject({ streamName, expected, actual });
}

function expectStrictlyIncreasing(positions: LogPosition[]): void {
  positions.slice(1).forEach((position, i) => expect(comparePositions(positions[i]!, position)).toBeLessThan(0));
}
