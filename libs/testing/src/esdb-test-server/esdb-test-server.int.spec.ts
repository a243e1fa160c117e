/**
 * The test server's protocol edges, exercised through the real `@eventstore/db-client` over real gRPC:
 * if the client misreads anything the server sends, these fail.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  TimeoutError,
  FORWARDS,
  NO_STREAM,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  UnknownError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Position,
} from '@eventstore/db-client';
import { StreamsClient } from '@eventstore/db-client/generated/streams_grpc_pb';
import { ServerFeaturesClient } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { DELETED_STREAM_REVISION } from './esdb-memory-log.store';
import { ProtobufEmpty, serverFeaturesPb, sharedPb, streamsPb } from './esdb-protocol.loader';
import { describeEsdbNodeFidelity } from './esdb-node-fidelity';
import { DEFAULT_MAX_APPEND_SIZE, startEsdbTestServer, type EsdbTestServer } from './esdb-test-server';
import type { AppendHoldVerdict } from './streams-write.handler';

const event = (type = 'Tested', data: Record<string, unknown> = {}, id = randomUUID()) =>
  jsonEvent({ id, type, data });

async function readAllEvents(client: EventStoreDBClient, options: Parameters<EventStoreDBClient['readAll']>[0] = {}) {
  const events: AllStreamResolvedEvent[] = [];
  for await (const resolved of client.readAll(options)) events.push(resolved);
  return events.map((resolved) => resolved.event!);
}

async function readStreamEvents(client: EventStoreDBClient, streamName: string, options = {}) {
  const events = [];
  for await (const resolved of client.readStream(streamName, options)) events.push(resolved.event!);
  return events;
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
  { appendPath: 'Append', batchAppend: false },
])('EventStoreDB test server, appends through $appendPath', ({ batchAppend }) => {
  let server: EsdbTestServer;
  let client: EventStoreDBClient;

  beforeAll(async () => {
    server = await startEsdbTestServer({ port: 0, batchAppend });
    client = EventStoreDBClient.connectionString(server.connectionString);
  });

  afterAll(async () => {
    await client.dispose();
    await server.stop();
  });

  it(`${batchAppend ? 'advertises' : 'neither advertises nor implements'} BatchAppend in ServerFeatures`, async () => {
    const address = `${server.host}:${server.port}`;
    const features = new ServerFeaturesClient(address, credentials.createInsecure());
    const methods = await new Promise<serverFeaturesPb.SupportedMethods>((resolve, reject) =>
      features.getSupportedMethods(new sharedPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))),
    );
    features.close();
    const names = methods.getMethodsList().map((method) => `${method.getServiceName()}/${method.getMethodName()}`);
    expect(names.includes('event_store.client.streams.streams/batchappend')).toBe(batchAppend);
    expect(names).toContain('event_store.client.streams.streams/append');

    const streams = new StreamsClient(address, credentials.createInsecure());
    const call = streams.batchAppend();
    const outcome = await new Promise<string>((resolve) => {
      call.on('data', () => resolve('answered'));
      call.on('error', (error: ServiceError) => resolve(error.code === GrpcStatus.UNIMPLEMENTED ? 'unimplemented' : error.message));
      const request = new streamsPb.BatchAppendReq()
        .setCorrelationId(new sharedPb.UUID().setString(randomUUID()))
        .setOptions(
          new streamsPb.BatchAppendReq.Options()
            .setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from('probe-1')))
            .setAny(new ProtobufEmpty()),
        )
        .setIsFinal(true);
      call.write(request);
    });
    call.end();
    streams.close();
    expect(outcome).toBe(batchAppend ? 'answered' : 'unimplemented');
  });

  it('appends and reads back data, metadata, type, revision, position and created time', async () => {
    const streamName = `order-${randomUUID()}`;
    const id = randomUUID();
    const before = Date.now();
    const result = await client.appendToStream(
      streamName,
      jsonEvent({ id, type: 'OrderPlaced', data: { amount: 42 }, metadata: { correlationId: 'c-1' } }),
      { expectedRevision: NO_STREAM },
    );
    expect(result.nextExpectedRevision).toBe(0n);
    const [recorded] = await readStreamEvents(client, streamName);
    expect(recorded).toMatchObject({
      streamId: streamName,
      id,
      type: 'OrderPlaced',
      revision: 0n,
      isJson: true,
      data: { amount: 42 },
      metadata: { correlationId: 'c-1' },
      position: result.position,
    });
    expect(recorded!.created.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(recorded!.created.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('rejects a wrong expected version with the stream, the expected and the actual revision', async () => {
    const streamName = `order-${randomUUID()}`;
    await client.appendToStream(streamName, event(), { expectedRevision: NO_STREAM });

    const twice = await rejection(client.appendToStream(streamName, event(), { expectedRevision: NO_STREAM }));
    expect(twice).toBeInstanceOf(WrongExpectedVersionError);
    expect(twice).toMatchObject({ streamName, expectedVersion: NO_STREAM, actualVersion: 0n });

    const stale = await rejection(client.appendToStream(streamName, event(), { expectedRevision: 5n }));
    expect(stale).toMatchObject({ streamName, expectedVersion: 5n, actualVersion: 0n });

    const missing = await rejection(
      client.appendToStream(`order-${randomUUID()}`, event(), { expectedRevision: 'stream_exists' }),
    );
    expect(missing).toBeInstanceOf(WrongExpectedVersionError);
    expect(missing).toMatchObject({ expectedVersion: 'stream_exists', actualVersion: 'no_stream' });

    expect(await readStreamEvents(client, streamName)).toHaveLength(1);
  });

  it('treats a retried append with the same event ids as a no-op, under an exact revision and under any', async () => {
    const streamName = `order-${randomUUID()}`;
    const batch = [event('A'), event('B')];
    const first = await client.appendToStream(streamName, batch, { expectedRevision: NO_STREAM });
    const retried = await client.appendToStream(streamName, batch, { expectedRevision: NO_STREAM });
    const retriedUnderAny = await client.appendToStream(streamName, batch, { expectedRevision: 'any' });

    expect(retried).toEqual(first);
    expect(retriedUnderAny).toEqual(first);
    expect((await readStreamEvents(client, streamName)).map((recorded) => recorded.type)).toEqual(['A', 'B']);

    const overlapping = await rejection(
      client.appendToStream(streamName, [batch[0]!, event('C')], { expectedRevision: NO_STREAM }),
    );
    expect(overlapping).toBeInstanceOf(WrongExpectedVersionError);
  });

  it('refuses an event id that is not a UUID and writes nothing', async () => {
    const streamName = `order-${randomUUID()}`;
    const error = await rejection(
      client.appendToStream(streamName, [event(), jsonEvent({ id: 'not-a-uuid', type: 'Tested', data: {} })]),
    );
    expect(error).toBeInstanceOf(UnknownError);
    expect(await rejection(readStreamEvents(client, streamName))).toBeInstanceOf(StreamNotFoundError);
  });

  it('soft delete: reads answer not found, $$stream gets $metadata, and a later append continues the revisions', async () => {
    const streamName = `order-${randomUUID()}`;
    await client.appendToStream(streamName, [event('A'), event('B')], { expectedRevision: NO_STREAM });
    const deleted = await client.deleteStream(streamName, { expectedRevision: 1n });
    expect(deleted.position).toBeDefined();

    expect(await rejection(readStreamEvents(client, streamName))).toBeInstanceOf(StreamNotFoundError);
    const metadataEvents = (await readAllEvents(client)).filter((recorded) => recorded.streamId === `$$${streamName}`);
    expect(metadataEvents.map((recorded) => recorded.type)).toEqual(['$metadata']);
    expect(metadataEvents[0]!.position).toEqual(deleted.position);

    const recreated = await client.appendToStream(streamName, event('C'), { expectedRevision: NO_STREAM });
    expect(recreated.nextExpectedRevision).toBe(2n);
    expect((await readStreamEvents(client, streamName)).map((recorded) => [recorded.type, recorded.revision])).toEqual([
      ['C', 2n],
    ]);
    const metastream = await readStreamEvents(client, `$$${streamName}`);
    expect(metastream.map((recorded) => recorded.data)).toEqual([{ $tb: Number(DELETED_STREAM_REVISION) }, { $tb: 2 }]);
  });

  it('soft delete reports conflicts through trailers the client understands', async () => {
    const never = await rejection(client.deleteStream(`order-${randomUUID()}`));
    expect(never).toBeInstanceOf(WrongExpectedVersionError);

    const streamName = `order-${randomUUID()}`;
    await client.appendToStream(streamName, event(), { expectedRevision: NO_STREAM });
    const stale = await rejection(client.deleteStream(streamName, { expectedRevision: 3n }));
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect(stale).toMatchObject({ streamName, expectedVersion: 3n, actualVersion: 0n });
  });

  it('tombstone: $streamDeleted at the last revision, then appends, reads and deletes fail with StreamDeletedError', async () => {
    const streamName = `order-${randomUUID()}`;
    await client.appendToStream(streamName, event(), { expectedRevision: NO_STREAM });
    const tombstoned = await client.tombstoneStream(streamName);

    const tombstone = (await readAllEvents(client)).find(
      (recorded) => recorded.streamId === streamName && recorded.type === '$streamDeleted',
    );
    expect(tombstone).toMatchObject({ revision: DELETED_STREAM_REVISION, position: tombstoned.position, isJson: false });

    for (const attempt of [
      () => client.appendToStream(streamName, event(), { expectedRevision: 'any' }),
      () => readStreamEvents(client, streamName),
      () => client.deleteStream(streamName),
      () => client.tombstoneStream(streamName),
    ]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(StreamDeletedError);
      expect(error).toMatchObject({ streamName });
    }
  });

  it('appending with stream_exists to a soft-deleted stream fails as deleted, like the real commit check', async () => {
    const streamName = `order-${randomUUID()}`;
    await client.appendToStream(streamName, event(), { expectedRevision: NO_STREAM });
    await client.deleteStream(streamName);
    const error = await rejection(client.appendToStream(streamName, event(), { expectedRevision: 'stream_exists' }));
    expect(error).toBeInstanceOf(StreamDeletedError);
  });
});

describe('EventStoreDB test server, reads and subscriptions', () => {
  let server: EsdbTestServer;
  let client: EventStoreDBClient;

  beforeEach(async () => {
    // Without its start-up epoch event, so positions and counts below are only the tests' own.
    server = await startEsdbTestServer({ port: 0, systemEvents: false });
    client = EventStoreDBClient.connectionString(server.connectionString);
  });

  afterEach(async () => {
    await client.dispose();
    await server.stop();
  });

  async function appendEach(streamNames: string[]): Promise<Position[]> {
    const positions: Position[] = [];
    for (const streamName of streamNames) {
      const result = await client.appendToStream(streamName, event('Tested', { streamName }));
      positions.push(result.position!);
    }
    return positions;
  }

  /** Fails with what was awaited instead of running into the suite timeout. */
  async function within<T>(promise: Promise<T>, what: () => string, ms = 5000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what()}`)), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('reads $all forwards and backwards with counts, inclusive forwards and exclusive backwards from a position', async () => {
    const positions = await appendEach(['a-1', 'b-1', 'a-1', 'b-1', 'a-1']);

    const all = await readAllEvents(client);
    expect(all.map((recorded) => recorded.position)).toEqual(positions);
    expect(new Set(positions.map((position) => position.commit)).size).toBe(5);

    expect((await readAllEvents(client, { maxCount: 3 })).map((recorded) => recorded.position)).toEqual(
      positions.slice(0, 3),
    );
    expect(
      (await readAllEvents(client, { direction: BACKWARDS, fromPosition: END, maxCount: 2 })).map(
        (recorded) => recorded.position,
      ),
    ).toEqual([positions[4], positions[3]]);
    expect(
      (await readAllEvents(client, { fromPosition: positions[2]!, maxCount: 2 })).map((recorded) => recorded.position),
    ).toEqual([positions[2], positions[3]]);
    expect(
      (await readAllEvents(client, { direction: BACKWARDS, fromPosition: positions[2]! })).map(
        (recorded) => recorded.position,
      ),
    ).toEqual([positions[1], positions[0]]);
    expect(await readAllEvents(client, { direction: BACKWARDS, fromPosition: START })).toEqual([]);
  });

  it('reads a stream forwards and backwards from a revision with a count', async () => {
    await appendEach(['s-1', 's-1', 's-1', 's-1']);
    const revisions = async (options: object) =>
      (await readStreamEvents(client, 's-1', options)).map((recorded) => recorded.revision);
    expect(await revisions({})).toEqual([0n, 1n, 2n, 3n]);
    expect(await revisions({ fromRevision: 1n, maxCount: 2 })).toEqual([1n, 2n]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: END, maxCount: 3 })).toEqual([3n, 2n, 1n]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: 1n })).toEqual([1n, 0n]);
    expect(await revisions({ direction: FORWARDS, fromRevision: END })).toEqual([]);
  });

  it('answers structured UUIDs when a client asks for them', async () => {
    const id = randomUUID();
    await client.appendToStream('uuid-1', jsonEvent({ id, type: 'Tested', data: {} }));
    const streams = new StreamsClient(`${server.host}:${server.port}`, credentials.createInsecure());
    const request = new streamsPb.ReadReq().setOptions(
      new streamsPb.ReadReq.Options()
        .setStream(
          new streamsPb.ReadReq.Options.StreamOptions()
            .setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from('uuid-1')))
            .setStart(new sharedPb.Empty()),
        )
        .setCount('10')
        .setNoFilter(new sharedPb.Empty())
        .setUuidOption(new streamsPb.ReadReq.Options.UUIDOption().setStructured(new sharedPb.Empty())),
    );
    const responses: streamsPb.ReadResp[] = [];
    for await (const response of streams.read(request)) responses.push(response as streamsPb.ReadResp);
    streams.close();
    const uuid = responses[0]!.getEvent()!.getEvent()!.getId()!;
    expect(uuid.hasStructured()).toBe(true);
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt(uuid.getStructured()!.getMostSignificantBits()), 0);
    bytes.writeBigInt64BE(BigInt(uuid.getStructured()!.getLeastSignificantBits()), 8);
    expect(bytes.toString('hex')).toBe(id.replace(/-/g, ''));
  });

  it('filters a subscription by stream prefix and sends checkpoints through history and live', async () => {
    const noise = Array.from({ length: 70 }, (_, index) => `noise-${index % 7}`);
    await appendEach(['order-1', ...noise.slice(0, 40), 'order-2', ...noise.slice(40)]);
    const checkpoints: Position[] = [];
    const subscription = client.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({
        prefixes: ['order-'],
        maxSearchWindow: 10,
        checkpointReached: (_subscription, position) => {
          checkpoints.push(position);
        },
      }),
    });
    const caughtUp = new Promise((resolve) => subscription.once('caughtUp', resolve));
    const delivered: string[] = [];
    const consumed = (async () => {
      for await (const resolved of subscription) {
        delivered.push(resolved.event!.streamId);
        if (delivered.length === 3) break;
      }
    })();
    await caughtUp;
    expect(checkpoints).toHaveLength(7);
    await appendEach([...noise.slice(0, 10), 'order-3']);
    await consumed;
    await subscription.unsubscribe();

    expect(delivered).toEqual(['order-1', 'order-2', 'order-3']);
    expect(checkpoints).toHaveLength(8);
    const commits = checkpoints.map((position) => position.commit);
    expect([...commits].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(commits);
    expect(new Set(commits).size).toBe(commits.length);
  });

  it('catches up and goes live with no gap and no duplicate while appends continue', async () => {
    const names = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index % 5}`);
    const [historyCount, racingCount, liveCount] = [150, 50, 20];
    const total = historyCount + racingCount + liveCount;
    await appendEach(names('history', historyCount));

    const subscription = client.subscribeToAll({ fromPosition: START });
    const received: Position[] = [];
    // The client emits `caughtUp` while transforming the responses in order, so the events that came
    // before caught_up are the ones the loop below has taken plus those still in the stream's buffer.
    let beforeCaughtUp = -1;
    const caughtUp = new Promise<void>((resolve) =>
      subscription.once('caughtUp', () => {
        beforeCaughtUp = received.length + subscription.readableLength;
        resolve();
      }),
    );
    const consumed = (async () => {
      for await (const resolved of subscription) {
        received.push(resolved.event!.position!);
        if (received.length === total) break;
      }
    })();
    // These race the catch-up: each lands either in the history the server is still walking or live.
    const racing = appendEach(names('racing', racingCount));
    await within(caughtUp, () => 'caught_up');
    await racing;
    // Appended only once the client has seen caught_up, so the server can deliver these only live.
    const live = await appendEach(names('live', liveCount));
    await within(consumed, () => `all ${total} events, ${received.length} received`);
    await subscription.unsubscribe();

    const written = (await readAllEvents(client)).map((recorded) => recorded.position);
    expect(written).toHaveLength(total);
    // Every event exactly once, in log order, none missing: what a projection relies on.
    expect(received).toEqual(written);
    expect(received.every((position, index) => index === 0 || position.commit > received[index - 1]!.commit)).toBe(true);
    // caught_up came after the whole history, and at least the live batch came after caught_up.
    expect(beforeCaughtUp).toBeGreaterThanOrEqual(historyCount);
    expect(received.length - beforeCaughtUp).toBeGreaterThanOrEqual(liveCount);
    expect(received.slice(-liveCount)).toEqual(live);
  });

  it('subscribes to $all strictly after a position', async () => {
    const positions = await appendEach(['p-1', 'p-2', 'p-3']);
    const subscription = client.subscribeToAll({ fromPosition: positions[0]! });
    const received: Position[] = [];
    for await (const resolved of subscription) {
      received.push(resolved.event!.position!);
      if (received.length === 2) break;
    }
    await subscription.unsubscribe();
    expect(received).toEqual(positions.slice(1));
  });

  it('subscribes to a stream after a revision and fails it when the stream is tombstoned', async () => {
    await appendEach(['t-1', 'other-1', 't-1', 't-1']);
    const subscription = client.subscribeToStream('t-1', { fromRevision: 0n });
    const revisions: bigint[] = [];
    const ended = (async () => {
      try {
        for await (const resolved of subscription) {
          revisions.push(resolved.event!.revision);
          if (revisions.length === 3) await client.tombstoneStream('t-1');
        }
        return 'ended';
      } catch (error) {
        return error;
      }
    })();
    await appendEach(['t-1']);
    const error = await ended;
    expect(revisions).toEqual([1n, 2n, 3n]);
    expect(error).toBeInstanceOf(StreamDeletedError);
  });

  it('keeps the log in a file across restarts when asked to', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'esdb-test-server-'));
    const file = join(directory, 'log.ndjson');
    try {
      const first = await startEsdbTestServer({ port: 0, file, systemEvents: false });
      const firstClient = EventStoreDBClient.connectionString(first.connectionString);
      const written = await firstClient.appendToStream('kept-1', [event('A'), event('B')], {
        expectedRevision: NO_STREAM,
      });
      await firstClient.dispose();
      await first.stop();

      const second = await startEsdbTestServer({ port: 0, file, systemEvents: false });
      const secondClient = EventStoreDBClient.connectionString(second.connectionString);
      const events = await readStreamEvents(secondClient, 'kept-1');
      const next = await secondClient.appendToStream('kept-1', event('C'), { expectedRevision: 1n });
      await secondClient.dispose();
      await second.stop();

      expect(events.map((recorded) => recorded.type)).toEqual(['A', 'B']);
      expect(events[1]!.position).toEqual(written.position);
      expect(next.nextExpectedRevision).toBe(2n);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe.each([
  { appendPath: 'BatchAppend', batchAppend: true },
  { appendPath: 'Append', batchAppend: false },
])('EventStoreDB test server against what a real node does, appends through $appendPath', ({ appendPath, batchAppend }) => {
  let server: EsdbTestServer;

  beforeAll(async () => {
    server = await startEsdbTestServer({ port: 0, batchAppend });
  });

  afterAll(async () => {
    await server.stop();
  });

  describeEsdbNodeFidelity(`test server (${appendPath})`, () => ({
    connectionString: server.connectionString,
    maxAppendSize: DEFAULT_MAX_APPEND_SIZE,
    writeSystemEvent: async () => {
      server.electLeader();
    },
  }));
});

describe('EventStoreDB test server, system events', () => {
  it('writes $epoch-information at start, at every election and at every restart, numbering the epochs', async () => {
    const first = await startEsdbTestServer({ port: 0 });
    const client = EventStoreDBClient.connectionString(first.connectionString);
    await client.appendToStream('app-1', event('Applied'));
    first.electLeader();
    await client.dispose();
    await first.stop();
    const second = await startEsdbTestServer({ port: 0, log: first.log });
    const secondClient = EventStoreDBClient.connectionString(second.connectionString);

    const all = await readAllEvents(secondClient);
    await secondClient.dispose();
    await second.stop();

    expect(all.map((recorded) => [recorded.streamId, recorded.type])).toEqual([
      ['$epoch-information', '$epoch-information'],
      ['app-1', 'Applied'],
      ['$epoch-information', '$epoch-information'],
      ['$epoch-information', '$epoch-information'],
    ]);
    const epochs = all.filter((recorded) => recorded.type === '$epoch-information');
    expect(epochs.map((recorded) => recorded.revision)).toEqual([0n, 1n, 2n]);
    const information = epochs.map((recorded) => recorded.data as Record<string, unknown>);
    expect(information.map((epoch) => epoch.epochNumber)).toEqual([0, 1, 2]);
    expect(information.map((epoch) => epoch.prevEpochPosition)).toEqual([
      -1,
      information[0]!.epochPosition,
      information[1]!.epochPosition,
    ]);
    // One instance led epochs 0 and 1; the restarted node is another instance.
    expect(information[1]!.leaderInstanceId).toBe(information[0]!.leaderInstanceId);
    expect(information[2]!.leaderInstanceId).not.toBe(information[0]!.leaderInstanceId);
  });

  it('starts with an empty log when told to write no system events', async () => {
    const server = await startEsdbTestServer({ port: 0, systemEvents: false });
    const client = EventStoreDBClient.connectionString(server.connectionString);
    const all = await readAllEvents(client);
    await client.dispose();
    await server.stop();
    expect(all).toEqual([]);
  });

  it('no longer advertises the BatchAppend duration deadline it does not read', async () => {
    const server = await startEsdbTestServer({ port: 0 });
    const features = new ServerFeaturesClient(`${server.host}:${server.port}`, credentials.createInsecure());
    const methods = await new Promise<serverFeaturesPb.SupportedMethods>((resolve, reject) =>
      features.getSupportedMethods(new sharedPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))),
    );
    features.close();
    await server.stop();
    const batchAppend = methods.getMethodsList().find((method) => method.getMethodName() === 'batchappend');
    expect(batchAppend?.getFeaturesList()).toEqual([]);
  });
});

describe.each([
  { appendPath: 'BatchAppend', batchAppend: true },
  { appendPath: 'Append', batchAppend: false },
])('EventStoreDB test server, append limits and deadlines through $appendPath', ({ batchAppend }) => {
  const servers: EsdbTestServer[] = [];
  const clients: EventStoreDBClient[] = [];

  async function connect(options: Parameters<typeof startEsdbTestServer>[0]): Promise<EventStoreDBClient> {
    const server = await startEsdbTestServer({ port: 0, batchAppend, ...options });
    servers.push(server);
    const client = EventStoreDBClient.connectionString(server.connectionString);
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  /** A hold that lasts `ms` and then gives `verdict`; `held` counts the appends it has seen. */
  function holdFor(ms: number, verdict: AppendHoldVerdict) {
    const hold = Object.assign(
      async () => {
        hold.held += 1;
        await new Promise((resolve) => setTimeout(resolve, ms));
        return verdict;
      },
      { held: 0 },
    );
    return hold;
  }

  it('counts metadata and two bytes per type character towards a configured limit', async () => {
    const client = await connect({ maxAppendSize: 100 });
    // 20 + 60 + 2 × 10 = 100: at the limit. One more byte of metadata passes it.
    const atLimit = jsonEvent({ type: 'T'.repeat(10), data: { d: 'x'.repeat(12) }, metadata: { m: 'y'.repeat(52) } });
    const overLimit = jsonEvent({ type: 'T'.repeat(10), data: { d: 'x'.repeat(12) }, metadata: { m: 'y'.repeat(53) } });
    expect(Buffer.byteLength(JSON.stringify(atLimit.data))).toBe(20);
    expect(Buffer.byteLength(JSON.stringify(atLimit.metadata))).toBe(60);

    await client.appendToStream('limited-1', atLimit, { expectedRevision: NO_STREAM });
    const error = await rejection(client.appendToStream('limited-2', overLimit, { expectedRevision: NO_STREAM }));
    expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
    expect(error).toMatchObject({ maxAppendSize: 100 });
    expect(await rejection(readStreamEvents(client, 'limited-2'))).toBeInstanceOf(StreamNotFoundError);
  });

  it("answers a held append with a timeout once its deadline passes; a 'drop' hold leaves it unwritten", async () => {
    const hold = holdFor(400, 'drop');
    const client = await connect({ holdAppend: hold });
    const error = await rejection(client.appendToStream('held-1', event(), { expectedRevision: NO_STREAM, deadline: 100 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hold.held).toBe(1);
    expect(await rejection(readStreamEvents(client, 'held-1'))).toBeInstanceOf(StreamNotFoundError);
  });

  it("writes a held append after its timeout was answered when the hold says 'write': an unknown outcome", async () => {
    const client = await connect({ holdAppend: holdFor(300, 'write') });
    const late = event('Late');
    const error = await rejection(client.appendToStream('held-2', late, { expectedRevision: NO_STREAM, deadline: 100 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await readStreamEvents(client, 'held-2')).map((recorded) => recorded.id)).toEqual([late.id]);
  });

  it("answers with a timeout after the node's write timeout even when the client would wait longer", async () => {
    const client = await connect({ holdAppend: holdFor(400, 'drop'), writeTimeoutMs: 100 });
    const started = Date.now();
    const error = await rejection(client.appendToStream('held-3', event(), { expectedRevision: NO_STREAM, deadline: 10_000 }));
    // BatchAppend reports every timeout as Timeout (DeadlineExceeded); the classic path its write timeout as ABORTED.
    expect(error).toBeInstanceOf(batchAppend ? DeadlineExceededError : TimeoutError);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('writes and answers a held append normally when the hold ends before the deadline', async () => {
    const client = await connect({ holdAppend: holdFor(50, 'write') });
    const result = await client.appendToStream('held-4', event(), { expectedRevision: NO_STREAM, deadline: 2000 });
    expect(result.nextExpectedRevision).toBe(0n);
  });
});
