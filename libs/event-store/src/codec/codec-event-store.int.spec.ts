import { describeEventStoreConformance } from '@csp/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import type { RecordedEvent } from '../event-store.port';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { CodecEventStore } from './codec-event-store';
import { SCHEMA_VERSION, UpcastingCodec, type Upcaster } from './event-codec';

/** A codec that changes nothing must leave every guarantee of the store it wraps intact. */
describeEventStoreConformance('SQLite behind the event codec', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'codec-event-store-'));
  const store = new CodecEventStore(SqliteEventStore.open(join(dir, 'events.sqlite')), new UpcastingCodec([]));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/**
 * Version 1 of `CustomerRegistered` had one `address` line; version 2 splits it into `city` and
 * `country`. Logs written by version 1 stay as they are, and every reader sees version 2.
 */
const addressSplit: Upcaster = {
  type: 'CustomerRegistered',
  fromVersion: 1,
  upcast: ({ address, ...rest }) => {
    const [city, country] = String(address).split(',').map((part) => part.trim());
    return { ...rest, city: city!, country: country! };
  },
};

describe('CodecEventStore with an upcaster', () => {
  let dir: string;
  let raw: SqliteEventStore;
  let store: CodecEventStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codec-upcast-'));
    raw = SqliteEventStore.open(join(dir, 'events.sqlite'));
    store = new CodecEventStore(raw, new UpcastingCodec([addressSplit]));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const v1 = { customerId: 'c-1', companyName: 'Contoso', address: 'Berlin, DE' };

  it('upcasts a v1 payload written before the upcaster existed, on every read path', async () => {
    await raw.appendToStream('customer-c-1', [{ id: uuid(), type: 'CustomerRegistered', data: v1 }], { expectedRevision: 'no_stream' });
    const expected = { customerId: 'c-1', companyName: 'Contoso', city: 'Berlin', country: 'DE' };

    const [fromStream] = await store.readStream('customer-c-1');
    const fromAll: RecordedEvent[] = [];
    for await (const event of store.readAll()) fromAll.push(event);
    const fromPages: RecordedEvent[][] = [];
    for await (const page of store.readAllPages!()) fromPages.push(page);
    const subscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    const fromSubscription = (await iterator.next()).value as RecordedEvent;
    await subscription.close();

    expect(fromPages.map((page) => page.length)).toEqual([1]);
    for (const event of [fromStream!, fromAll[0]!, fromPages[0]![0]!, fromSubscription]) {
      expect(event.data).toEqual(expected);
      expect(event.metadata[SCHEMA_VERSION]).toBe(2);
    }
    // The log itself still holds what version 1 wrote.
    expect((await raw.readStream('customer-c-1'))[0]!.data).toEqual(v1);
  });

  it('stamps new events with the current version and does not upcast them again', async () => {
    const v2 = { customerId: 'c-2', companyName: 'Fabrikam', city: 'Wien, Innere Stadt', country: 'AT' };
    await store.appendToStream('customer-c-2', [{ id: uuid(), type: 'CustomerRegistered', data: v2 }], { expectedRevision: 'no_stream' });

    expect((await raw.readStream('customer-c-2'))[0]!.metadata[SCHEMA_VERSION]).toBe(2);
    expect((await store.readStream('customer-c-2'))[0]!.data).toEqual(v2);
  });

  it('passes types without upcasters through untouched, with no version stamp', async () => {
    await store.appendToStream('order-o-1', [{ id: uuid(), type: 'OrderPlaced', data: { orderId: 'o-1' } }], { expectedRevision: 'no_stream' });

    const [recorded] = await raw.readStream('order-o-1');
    expect(recorded!.metadata).toEqual({});
    expect((await store.readStream('order-o-1'))[0]!.data).toEqual({ orderId: 'o-1' });
  });

  it('refuses a chain of upcasters with a gap', () => {
    expect(() => new UpcastingCodec([{ ...addressSplit, fromVersion: 2 }])).toThrow(/without gaps/);
  });
});
