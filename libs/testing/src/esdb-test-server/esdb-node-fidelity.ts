/**
 * What the EventStoreDB adapter depends on in a node, asked through the official client: system
 * events in `$all`, MaxAppendSize, deadlines, links and stream metadata. Run against the test
 * server and, wherever a Docker engine answers, against a real 24.10 node, so the test server
 * cannot drift from the real thing unnoticed.
 *
 * @example
 *   describeEsdbNodeFidelity('test server', () => ({
 *     connectionString: server.connectionString,
 *     maxAppendSize: 1024 * 1024,
 *     writeSystemEvent: async () => void server.electLeader(),
 *   }));
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  StreamNotFoundError,
  binaryEvent,
  jsonEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';

export interface EsdbNodeUnderTest {
  connectionString: string;
  /** The node's MaxAppendSize in bytes. */
  maxAppendSize: number;
  /** Makes the node write one of its own events now (an election, a metadata change...). */
  writeSystemEvent(): Promise<void>;
}

export function describeEsdbNodeFidelity(name: string, node: () => EsdbNodeUnderTest): void {
  describe(`EventStoreDB node fidelity: ${name}`, () => {
    let client: EventStoreDBClient;

    beforeAll(() => {
      client = EventStoreDBClient.connectionString(node().connectionString);
    });

    afterAll(async () => {
      await client.dispose();
    });

    async function readStream(streamName: string, options: Parameters<EventStoreDBClient['readStream']>[1] = {}) {
      const events: ResolvedEvent[] = [];
      for await (const resolved of client.readStream(streamName, options)) events.push(resolved);
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

    /** A JSON event whose data serializes to exactly `bytes` bytes. */
    function eventOfSize(bytes: number, type = 'Sized') {
      const overhead = JSON.stringify({ padding: '' }).length;
      return jsonEvent({ id: randomUUID(), type, data: { padding: 'x'.repeat(bytes - overhead) } });
    }

    describe('system events', () => {
      it("opens $all with the node's own $epoch-information event", async () => {
        const [first] = await readAllEvents(client, { fromPosition: START, maxCount: 1 });
        expect(first).toMatchObject({ streamId: '$epoch-information', type: '$epoch-information' });
      });

      it('ends $all with a system event when the node has just written one', async () => {
        await client.appendToStream(`fidelity-${randomUUID()}`, jsonEvent({ type: 'Before', data: {} }));
        await node().writeSystemEvent();

        const [last] = await readAllEvents(client, { fromPosition: END, direction: BACKWARDS, maxCount: 1 });
        expect(last!.type.startsWith('$')).toBe(true);
        expect(last!.streamId.startsWith('$')).toBe(true);
      });
    });

    describe('MaxAppendSize', () => {
      it('refuses one event above the limit and writes nothing', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        const error = await rejection(
          client.appendToStream(streamName, eventOfSize(node().maxAppendSize + 1), { expectedRevision: NO_STREAM }),
        );
        expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
        expect(await rejection(readStream(streamName))).toBeInstanceOf(StreamNotFoundError);
      });

      it('refuses events that only together pass the limit, and writes none of them', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        const half = Math.ceil(node().maxAppendSize / 2) + 1;
        const error = await rejection(
          client.appendToStream(streamName, [eventOfSize(half), eventOfSize(half)], { expectedRevision: NO_STREAM }),
        );
        expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
        expect(await rejection(readStream(streamName))).toBeInstanceOf(StreamNotFoundError);
      });

      it('accepts an append whose data, metadata and type together are exactly the limit', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        const type = 'Sized';
        const event = eventOfSize(node().maxAppendSize - type.length * 2, type);
        const result = await client.appendToStream(streamName, event, { expectedRevision: NO_STREAM });
        expect(result.nextExpectedRevision).toBe(0n);
      });
    });

    describe('deadlines', () => {
      it('answers an append whose deadline has passed with DeadlineExceeded and writes nothing', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        const error = await rejection(
          client.appendToStream(streamName, jsonEvent({ type: 'Late', data: {} }), {
            expectedRevision: NO_STREAM,
            deadline: -1000,
          }),
        );
        expect(error).toBeInstanceOf(DeadlineExceededError);
        expect(await rejection(readStream(streamName))).toBeInstanceOf(StreamNotFoundError);
      });
    });

    describe('links and stream metadata', () => {
      it('returns a link as itself, and with resolveLinkTos the event it points at along with the link', async () => {
        const target = `fidelity-${randomUUID()}`;
        const links = `fidelity-${randomUUID()}`;
        const targetEvent = jsonEvent({ type: 'Target', data: { n: 1 } });
        await client.appendToStream(target, targetEvent);
        await client.appendToStream(links, [
          binaryEvent({ type: '$>', data: Buffer.from(`0@${target}`) }),
          binaryEvent({ type: '$>', data: Buffer.from(`7@${target}`) }),
        ]);

        const unresolved = await readStream(links);
        expect(unresolved.map((resolved) => [resolved.event?.type, resolved.link])).toEqual([
          ['$>', undefined],
          ['$>', undefined],
        ]);

        const [found, missing] = await readStream(links, { resolveLinkTos: true });
        expect(found!.event).toMatchObject({ id: targetEvent.id, streamId: target, type: 'Target', data: { n: 1 } });
        expect(found!.link).toMatchObject({ streamId: links, type: '$>', revision: 0n });
        expect(missing!.event).toBeUndefined();
        expect(missing!.link).toMatchObject({ streamId: links, revision: 1n });
      });

      it('reads only the last $maxCount events of a stream', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        await client.appendToStream(
          streamName,
          [0, 1, 2, 3, 4].map((n) => jsonEvent({ type: 'Counted', data: { n } })),
        );
        await client.setStreamMetadata(streamName, { maxCount: 2 });
        expect((await readStream(streamName)).map((resolved) => resolved.event!.revision)).toEqual([3n, 4n]);
        expect(
          (await readStream(streamName, { direction: BACKWARDS, fromRevision: END })).map(
            (resolved) => resolved.event!.revision,
          ),
        ).toEqual([4n, 3n]);
      });

      it('reads no event of a stream older than its $maxAge', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        await client.appendToStream(streamName, jsonEvent({ type: 'Old', data: {} }));
        await client.setStreamMetadata(streamName, { maxAge: 1 });
        await sleep(1500);
        await client.appendToStream(streamName, jsonEvent({ type: 'New', data: {} }));
        expect((await readStream(streamName)).map((resolved) => resolved.event!.type)).toEqual(['New']);
      });

      it('reads no event below $tb', async () => {
        const streamName = `fidelity-${randomUUID()}`;
        await client.appendToStream(
          streamName,
          [0, 1, 2, 3].map((n) => jsonEvent({ type: 'Counted', data: { n } })),
        );
        await client.setStreamMetadata(streamName, { truncateBefore: 3 });
        expect((await readStream(streamName)).map((resolved) => resolved.event!.revision)).toEqual([3n]);
      });
    });
  });
}

async function readAllEvents(client: EventStoreDBClient, options: Parameters<EventStoreDBClient['readAll']>[0]) {
  const events = [];
  for await (const resolved of client.readAll(options)) events.push(resolved.event!);
  return events;
}
