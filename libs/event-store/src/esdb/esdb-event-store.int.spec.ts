/**
 * The EventStoreDB adapter over real gRPC against the in-process EventStoreDB test server: the shared
 * conformance suite on both append paths, then what only this adapter does (system events, paging,
 * reconnection).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { describeEventStoreConformance } from '@csp/testing/event-store-conformance';
import { DEFAULT_MAX_APPEND_SIZE, startEsdbTestServer, type AppendHoldVerdict, type EsdbTestServer } from '@csp/testing/esdb-test-server';
import { describeEsdbNodeFidelity, type EsdbNodeUnderTest } from '@csp/testing/esdb-test-server/esdb-node-fidelity';
import {
  EventStoreUnavailableError,
  EventTooLargeError,
  NO_STREAM,
  type EventToAppend,
  type LogSubscription,
  type RecordedEvent,
} from '../event-store.port';
import { EsdbEventStore, appendSize } from './esdb-event-store';

describe.each([
  { appendPath: 'BatchAppend', batchAppend: true },
  { appendPath: 'classic Append', batchAppend: false },
])('EsdbEventStore on the EventStoreDB test server, appending through $appendPath', ({ appendPath, batchAppend }) => {
  let server: EsdbTestServer;

  beforeAll(async () => {
    server = await startEsdbTestServer({ port: 0, batchAppend });
  });

  afterAll(async () => {
    await server.stop();
  });

  describeEventStoreConformance(`EventStoreDB adapter (${appendPath})`, async () => {
    const store = EsdbEventStore.connect(server.connectionString);
    return { store, cleanup: () => store.close() };
  });

  describeAdapterOnNode(`EventStoreDB adapter (${appendPath})`, () => ({
    connectionString: server.connectionString,
    maxAppendSize: DEFAULT_MAX_APPEND_SIZE,
    writeSystemEvent: async () => {
      server.electLeader();
    },
  }));
});

/** The release the docker/ compose file runs; the conformance suite must hold against it too. */
const EVENTSTORE_IMAGE = 'eventstore/eventstore:24.10';
/** The container runs with the node's default MaxAppendSize. */
const REAL_NODE_MAX_APPEND_SIZE = 1024 * 1024;
const dockerProbe = probeDockerEngine();

if (dockerProbe.answers) {
  describe(`EsdbEventStore on a real EventStoreDB (${EVENTSTORE_IMAGE}, testcontainers)`, () => {
    let container: StartedTestContainer;
    let connectionString: string;

    beforeAll(async () => {
      container = await new GenericContainer(EVENTSTORE_IMAGE)
        .withEnvironment({
          EVENTSTORE_INSECURE: 'true',
          EVENTSTORE_MAX_APPEND_SIZE: String(REAL_NODE_MAX_APPEND_SIZE),
          EVENTSTORE_MEM_DB: 'true',
          EVENTSTORE_RUN_PROJECTIONS: 'None',
          EVENTSTORE_START_STANDARD_PROJECTIONS: 'false',
        })
        .withExposedPorts(2113)
        .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
        .withStartupTimeout(120_000)
        .start();
      connectionString = `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`;
    }, 180_000);

    afterAll(async () => {
      await container?.stop();
    });

    describeEventStoreConformance(`EventStoreDB adapter (${EVENTSTORE_IMAGE})`, async () => {
      const store = EsdbEventStore.connect(connectionString);
      return { store, cleanup: () => store.close() };
    });

    // The node writes `$metadata` to `$$<stream>` when asked: a system event at a moment of the test's choosing.
    const realNode = (): EsdbNodeUnderTest => ({
      connectionString,
      maxAppendSize: REAL_NODE_MAX_APPEND_SIZE,
      writeSystemEvent: async () => {
        const client = EventStoreDBClient.connectionString(connectionString);
        await client.setStreamMetadata(`system-event-${randomUUID()}`, { maxCount: 10 });
        await client.dispose();
      },
    });
    describeEsdbNodeFidelity(EVENTSTORE_IMAGE, realNode);
    describeAdapterOnNode(`EventStoreDB adapter (${EVENTSTORE_IMAGE})`, realNode);
  });
} else {
  // Not registered rather than skipped: a missing engine must not show up as passing tests.
  console.warn(
    `NOT RUN: EventStoreDB conformance, node fidelity and adapter-on-node tests against ${EVENTSTORE_IMAGE} via testcontainers — no Docker engine answers (${dockerProbe.reason})`,
  );
}

describe('EsdbEventStore, beyond the port contract', () => {
  let server: EsdbTestServer;
  const stores: EsdbEventStore[] = [];
  const open = (options?: ConstructorParameters<typeof EsdbEventStore>[1]): EsdbEventStore => {
    const store = EsdbEventStore.connect(server.connectionString, options);
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    server = await startEsdbTestServer({ port: 0 });
  });

  /** Stops the server; the returned function starts it again on the same port with the same log. */
  async function stopServer(): Promise<() => Promise<void>> {
    const { port, log } = server;
    await server.stop();
    return async () => {
      server = await startEsdbTestServer({ port, log });
    };
  }

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await server.stop();
  });

  it('rejects a malformed connection string at once', () => {
    expect(() => EsdbEventStore.connect('postgres://localhost')).toThrow();
  });

  it("leaves EventStoreDB's own events out of reads, subscriptions and the head position", async () => {
    const store = open();
    const category = newCategory();
    const kept = newEvent();
    await store.appendToStream(`${category}-kept`, [kept], { expectedRevision: NO_STREAM });
    const raw = EventStoreDBClient.connectionString(server.connectionString);
    await raw.appendToStream(`${category}-soft`, jsonEvent({ id: randomUUID(), type: 'Gone', data: {} }));
    await raw.deleteStream(`${category}-soft`);
    await raw.appendToStream(`${category}-hard`, jsonEvent({ id: randomUUID(), type: 'Gone', data: {} }));
    await raw.tombstoneStream(`${category}-hard`);
    await raw.dispose();

    const everything = await collect(store.readAll());
    expect(everything.filter((event) => event.type.startsWith('$') || event.streamName.startsWith('$'))).toEqual([]);
    expect(everything.map((event) => event.type)).toEqual(['ConformanceLike', 'Gone', 'Gone']);

    const subscription = store.subscribeToAll();
    expect((await take(subscription, 3)).map((event) => event.type)).toEqual(['ConformanceLike', 'Gone', 'Gone']);
    await subscription.close();

    const lastApplicationEvent = everything.at(-1)!;
    expect(await store.headPosition()).toEqual(lastApplicationEvent.position);
    expect(await store.readStream(`${category}-soft`)).toEqual([]);
    expect(await store.readStream(`${category}-hard`)).toEqual([]);
  });

  it('reads the one event at a position when asked for one, past EventStoreDB`s own events and other streams', async () => {
    const store = open();
    const category = newCategory();
    const mine: EventToAppend[] = [];
    for (let index = 0; index < 4; index++) {
      const event = newEvent();
      mine.push(event);
      await store.appendToStream(`${category}-${index}`, [event], { expectedRevision: NO_STREAM });
      server.electLeader();
      await store.appendToStream(`elsewhere-${category}-${index}`, [newEvent()], { expectedRevision: NO_STREAM });
    }
    const all = await collect(store.readAll({ streamPrefixes: [`${category}-`] }));
    expect(all.map((event) => event.id)).toEqual(mine.map((event) => event.id));

    for (const event of all) {
      expect((await collect(store.readAll({ fromPosition: event.position, maxCount: 1 }))).map((read) => read.id)).toEqual([event.id]);
    }
    const others = await collect(store.readAll({ fromPosition: all[0]!.position, streamPrefixes: [`elsewhere-${category}-`] }));
    const afterOther = await collect(store.readAll({ fromPosition: others[0]!.position, streamPrefixes: [`${category}-`], maxCount: 1 }));
    expect(afterOther.map((event) => event.id)).toEqual([mine[1]!.id]);
  });

  it('pages through $all with a small page size without losing or repeating events', async () => {
    const store = open({ readPageSize: 2 });
    const category = newCategory();
    const wanted: EventToAppend[] = [];
    for (let index = 0; index < 7; index++) {
      const event = newEvent();
      const mine = index % 3 !== 1;
      await store.appendToStream(`${mine ? category : 'elsewhere'}-${index}`, [event], { expectedRevision: NO_STREAM });
      if (mine) wanted.push(event);
    }

    const all = await collect(store.readAll({ streamPrefixes: [`${category}-`] }));
    expect(all.map((event) => event.id)).toEqual(wanted.map((event) => event.id));
    const fromSecond = await collect(store.readAll({ fromPosition: all[1]!.position, streamPrefixes: [`${category}-`], maxCount: 3 }));
    expect(fromSecond.map((event) => event.id)).toEqual(wanted.slice(1, 4).map((event) => event.id));
    expect(await store.headPosition()).toEqual(all.at(-1)!.position);
    expect(await collect(store.readAll({ streamPrefixes: [] }))).toHaveLength(7);
  });

  it('resubscribes after the server goes away and goes on after the last event it delivered', async () => {
    const retries: unknown[] = [];
    const store = open({ reconnect: { initialDelayMs: 20, maxDelayMs: 100, onRetry: (error) => retries.push(error) } });
    const category = newCategory();
    const first = newEvent();
    await store.appendToStream(`${category}-1`, [first], { expectedRevision: NO_STREAM });
    const subscription = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value.id).toBe(first.id);

    const port = server.port;
    const log = server.log;
    await server.stop();
    const waiting = iterator.next();
    await eventually(() => retries.length > 0);
    server = await startEsdbTestServer({ port, log });
    const second = newEvent();
    await store.appendToStream(`${category}-1`, [second], { expectedRevision: 0n });

    expect((await waiting).value.id).toBe(second.id);
    await subscription.close();
    expect((await iterator.next()).done).toBe(true);
  });

  it('resumes from the last server checkpoint rather than re-reading filtered-out history', async () => {
    const client = EventStoreDBClient.connectionString(server.connectionString);
    const store = new EsdbEventStore(client, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    stores.push(store);
    const subscribeCalls: Parameters<EventStoreDBClient['subscribeToAll']>[0][] = [];
    const checkpoints: bigint[] = [];
    const subscribe = client.subscribeToAll.bind(client);
    jest.spyOn(client, 'subscribeToAll').mockImplementation((options, readableOptions) => {
      subscribeCalls.push(options);
      const filter = options!.filter!;
      return subscribe(
        {
          ...options,
          filter: {
            ...filter,
            checkpointReached: (subscription, position) => {
              checkpoints.push(position.commit);
              return filter.checkpointReached?.(subscription, position);
            },
          },
        },
        readableOptions,
      );
    });
    const category = newCategory();
    const first = newEvent();
    await store.appendToStream(`${category}-1`, [first], { expectedRevision: NO_STREAM });
    const subscription = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value.id).toBe(first.id);
    const waiting = iterator.next();
    let lastNoise = 0n;
    for (let index = 0; index < 70; index++) {
      lastNoise = (await store.appendToStream(`noise-${index}`, [newEvent()], { expectedRevision: NO_STREAM })).position
        .commit;
    }
    await eventually(() => checkpoints.length >= 2);

    const port = server.port;
    const log = server.log;
    await server.stop();
    server = await startEsdbTestServer({ port, log });
    await eventually(() => subscribeCalls.length >= 2);
    const second = newEvent();
    await store.appendToStream(`${category}-1`, [second], { expectedRevision: 0n });
    expect((await waiting).value.id).toBe(second.id);
    await subscription.close();

    const resumedFrom = subscribeCalls.at(-1)!.fromPosition as { commit: bigint };
    expect(resumedFrom.commit).toBe(checkpoints.at(-1));
    expect(resumedFrom.commit).toBeGreaterThan(0n);
    expect(resumedFrom.commit).toBeLessThanOrEqual(lastNoise);
  });

  it('ends an iteration that is waiting out a back-off as soon as the subscription is closed', async () => {
    const retries: unknown[] = [];
    const store = open({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000, onRetry: (error) => retries.push(error) } });
    const subscription: LogSubscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await store.headPosition();
    await server.stop();
    await eventually(() => retries.length === 1);

    const started = Date.now();
    await subscription.close();
    expect((await waiting).done).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('closes at once after reads that left a page early, also when the server had already sent all of it', async () => {
    const store = open();
    // About 40 events: more than the client buffers without pausing its call, few enough that the
    // server has sent them all and ended the call by the time the reader stops (33 to 45 hung before).
    await store.appendToStream(`${newCategory()}-1`, Array.from({ length: 40 }, newEvent), { expectedRevision: NO_STREAM });
    expect(await store.headPosition()).toBeDefined();
    for await (const event of store.readAll()) {
      expect(event).toBeDefined();
      // Time for the rest of the page and the end of the call to arrive: cancelling then changes nothing.
      await new Promise((resolve) => setTimeout(resolve, 100));
      break;
    }
    // The client's dispose() waits for every call it started to end.
    const started = Date.now();
    const outcome = await Promise.race([store.close().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 5000, 'still closing').unref())]);
    expect(outcome).toBe('closed');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a second iteration of one subscription', async () => {
    const subscription = open().subscribeToAll();
    subscription[Symbol.asyncIterator]();
    expect(() => subscription[Symbol.asyncIterator]()).toThrow(/only once/);
    await subscription.close();
  });

  it('sends an append again when the server was away, once it is back, and writes it once', async () => {
    const store = open({ appendRetry: { attempts: 40, initialDelayMs: 25, maxDelayMs: 50 } });
    const stream = `${newCategory()}-1`;
    await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
    const restartServer = await stopServer();

    const event = newEvent();
    const appending = store.appendToStream(stream, [event], { expectedRevision: 0n });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await restartServer();

    const result = await appending;
    expect(result.nextExpectedRevision).toBe(1n);
    expect((await store.readStream(stream)).map((recorded) => recorded.id).filter((id) => id === event.id)).toHaveLength(1);
  });

  it('reads a stream once the server is back instead of failing the command that needs it', async () => {
    const store = open({ appendRetry: { attempts: 40, initialDelayMs: 25, maxDelayMs: 50 } });
    const stream = `${newCategory()}-1`;
    const event = newEvent();
    await store.appendToStream(stream, [event], { expectedRevision: NO_STREAM });
    const restartServer = await stopServer();

    const reading = store.readStream(stream);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await restartServer();

    expect((await reading).map((recorded) => recorded.id)).toEqual([event.id]);
  });

  it('answers an append whose reply was lost after the write from the stream, without writing again', async () => {
    const client = EventStoreDBClient.connectionString(server.connectionString);
    // The write reaches the server; the answer does not (a connection cut between the two).
    const losesReplies = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'appendToStream') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<EventStoreDBClient['appendToStream']>) => {
          await target.appendToStream(...args);
          throw Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 });
        };
      },
    });
    const store = new EsdbEventStore(losesReplies);
    stores.push(store);
    const stream = `${newCategory()}-1`;
    const events = [newEvent(), newEvent()];

    const result = await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });

    const recorded = await store.readStream(stream);
    expect(recorded.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(result).toEqual({ nextExpectedRevision: 1n, position: recorded[1]!.position });
  });

  it('gives up with EventStoreUnavailableError when the server stays away, having written nothing', async () => {
    const store = open({ appendRetry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 10 } });
    const stream = `${newCategory()}-1`;
    await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
    const restartServer = await stopServer();

    await expect(store.appendToStream(stream, [newEvent()], { expectedRevision: 0n })).rejects.toBeInstanceOf(EventStoreUnavailableError);

    await restartServer();
    expect(await store.readStream(stream)).toHaveLength(1);
  });
});

/**
 * What the adapter must get right on any node, run on the test server and on a real node: system
 * events anywhere in `$all`, and appends above MaxAppendSize refused before anything is sent.
 */
function describeAdapterOnNode(name: string, node: () => EsdbNodeUnderTest): void {
  describe(`${name} where the node differs from a plain log`, () => {
    const stores: EsdbEventStore[] = [];
    const open = (options?: ConstructorParameters<typeof EsdbEventStore>[1]): EsdbEventStore => {
      const store = EsdbEventStore.connect(node().connectionString, { maxAppendSize: node().maxAppendSize, ...options });
      stores.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    it('reads, heads and subscribes past system events in the middle and at the end of $all, one page at a time', async () => {
      // Pages of one event make whole pages of system events, the case paging code most easily gets wrong.
      const store = open({ readPageSize: 1 });
      const category = newCategory();
      const first = newEvent();
      const second = newEvent();
      const firstResult = await store.appendToStream(`${category}-1`, [first], { expectedRevision: NO_STREAM });
      await node().writeSystemEvent();
      await node().writeSystemEvent();
      const secondResult = await store.appendToStream(`${category}-2`, [second], { expectedRevision: NO_STREAM });
      await node().writeSystemEvent();
      await node().writeSystemEvent();

      expect((await collect(store.readAll({ streamPrefixes: [`${category}-`] }))).map((event) => event.id)).toEqual([first.id, second.id]);
      const fromFirst = await collect(store.readAll({ fromPosition: firstResult.position }));
      expect(fromFirst.map((event) => event.id)).toEqual([first.id, second.id]);
      expect(await store.headPosition()).toEqual(secondResult.position);

      const filtered = store.subscribeToAll({ streamPrefixes: [`${category}-`] });
      expect((await take(filtered, 2)).map((event) => event.id)).toEqual([first.id, second.id]);
      await filtered.close();

      const everything = store.subscribeToAll({ fromPosition: firstResult.position });
      const iterator = everything[Symbol.asyncIterator]();
      expect((await iterator.next()).value.id).toBe(second.id);
      const third = newEvent();
      const waiting = iterator.next();
      await node().writeSystemEvent();
      await store.appendToStream(`${category}-3`, [third], { expectedRevision: NO_STREAM });
      expect((await waiting).value.id).toBe(third.id);
      await everything.close();
    });

    it('refuses one event above the limit with EventTooLargeError without calling the node', async () => {
      const client = EventStoreDBClient.connectionString(node().connectionString);
      const appendToStream = jest.spyOn(client, 'appendToStream');
      const store = new EsdbEventStore(client, { maxAppendSize: node().maxAppendSize });
      stores.push(store);
      const stream = `${newCategory()}-1`;
      const event = eventOfSize(node().maxAppendSize + 1);

      const error = await rejection(store.appendToStream(stream, [event], { expectedRevision: NO_STREAM }));

      expect(error).toBeInstanceOf(EventTooLargeError);
      expect(error).toMatchObject({ streamName: stream, sizeBytes: node().maxAppendSize + 1, maxBytes: node().maxAppendSize });
      expect(appendToStream).not.toHaveBeenCalled();
      expect(await store.readStream(stream)).toEqual([]);
    });

    it('refuses events that only together pass the limit, and writes none of them', async () => {
      const store = open();
      const stream = `${newCategory()}-1`;
      const half = Math.floor(node().maxAppendSize / 2) + 1;
      const events = [eventOfSize(half), eventOfSize(half)];

      await expect(store.appendToStream(stream, events, { expectedRevision: NO_STREAM })).rejects.toBeInstanceOf(EventTooLargeError);
      expect(await store.readStream(stream)).toEqual([]);
    });

    it('writes an append exactly at the limit, counted as the node counts it', async () => {
      const store = open();
      const stream = `${newCategory()}-1`;
      const events = [eventOfSize(node().maxAppendSize - 1000), eventOfSize(1000)];
      expect(appendSize(events)).toBe(node().maxAppendSize);

      const result = await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });
      expect(result.nextExpectedRevision).toBe(1n);
    });
  });
}

/** An event whose data, metadata and type count exactly `bytes` towards MaxAppendSize. */
function eventOfSize(bytes: number): EventToAppend {
  const type = 'Sized';
  const metadata = { correlationId: 'c-1' };
  // The adapter adds a 64-hex-digit chain link to the metadata it sends.
  const sentMetadata = { ...metadata, $cspChainHash: 'f'.repeat(64) };
  const overhead = JSON.stringify({ padding: '' }).length + JSON.stringify(sentMetadata).length + type.length * 2;
  return { id: randomUUID(), type, data: { padding: 'x'.repeat(bytes - overhead) }, metadata };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each([
  { appendPath: 'BatchAppend', batchAppend: true },
  { appendPath: 'classic Append', batchAppend: false },
])('EsdbEventStore on the test server, what only the test server can stage, through $appendPath', ({ batchAppend }) => {
  const servers: EsdbTestServer[] = [];
  const stores: EsdbEventStore[] = [];

  async function start(options: Parameters<typeof startEsdbTestServer>[0]): Promise<EsdbTestServer> {
    const server = await startEsdbTestServer({ port: 0, batchAppend, ...options });
    servers.push(server);
    return server;
  }

  function open(connectionString: string, options?: ConstructorParameters<typeof EsdbEventStore>[1]): EsdbEventStore {
    const store = EsdbEventStore.connect(connectionString, options);
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  /** Holds only the first append for `ms`, then gives `verdict`; later appends pass at once. `calls` counts them all. */
  function holdFirstAppend(ms: number, verdict: AppendHoldVerdict) {
    const hold = Object.assign(
      async (): Promise<AppendHoldVerdict> => {
        hold.calls += 1;
        if (hold.calls > 1) return 'write';
        await new Promise((resolve) => setTimeout(resolve, ms));
        return verdict;
      },
      { calls: 0 },
    );
    return hold;
  }

  it('has no head position on a fresh node whose log holds only its own events', async () => {
    const server = await start({});
    server.electLeader();
    expect(await open(server.connectionString).headPosition()).toBeUndefined();
    expect(await collect(open(server.connectionString).readAll())).toEqual([]);
  });

  it("maps the node's own MaxAppendSize refusal to EventTooLargeError when the node's limit is lower", async () => {
    const server = await start({ maxAppendSize: 1000 });
    const store = open(server.connectionString);
    const stream = `${newCategory()}-1`;

    const error = await rejection(store.appendToStream(stream, [eventOfSize(1001)], { expectedRevision: NO_STREAM }));

    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toMatchObject({ streamName: stream, maxBytes: 1000 });
    expect(await store.readStream(stream)).toEqual([]);
  });

  it.each([
    { verdict: 'drop' as const, what: 'lost' },
    { verdict: 'write' as const, what: 'written late' },
  ])('treats a timeout answered by the node as an unknown outcome and writes once when the held append was $what', async ({ verdict }) => {
    const hold = holdFirstAppend(300, verdict);
    const server = await start({ holdAppend: hold });
    const store = open(`${server.connectionString}&defaultDeadline=100`, {
      appendRetry: { attempts: 10, initialDelayMs: 100, maxDelayMs: 200 },
    });
    const stream = `${newCategory()}-1`;
    const events = [newEvent(), newEvent()];

    const result = await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });

    // Sent a second time with the same ids after the timeout, and in the stream once either way.
    expect(hold.calls).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recorded = await store.readStream(stream);
    expect(recorded.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(result).toEqual({ nextExpectedRevision: 1n, position: recorded[1]!.position });
  });
});

function newEvent(): EventToAppend {
  return { id: randomUUID(), type: 'ConformanceLike', data: { value: randomUUID() } };
}

function newCategory(): string {
  return `esdb${randomUUID().replace(/-/g, '')}`;
}

async function collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const collected: RecordedEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

async function take(subscription: LogSubscription, count: number): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  while (taken.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Jest registers tests synchronously while testcontainers can only ask the engine asynchronously, so
 * a child process asks testcontainers' own runtime detection and answers through its exit code.
 */
function probeDockerEngine(): { answers: true } | { answers: false; reason: string } {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      "require('testcontainers').getContainerRuntimeClient().then(() => process.exit(0), (error) => { process.stderr.write(String(error && error.message)); process.exit(1); })",
    ],
    { cwd: __dirname, encoding: 'utf8', timeout: 30_000 },
  );
  if (probe.status === 0) return { answers: true };
  return { answers: false, reason: probe.stderr.trim().split('\n').at(-1) || probe.error?.message || `probe exited ${probe.status}` };
}
