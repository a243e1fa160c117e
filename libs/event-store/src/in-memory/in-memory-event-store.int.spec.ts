import { DuplicateEventIdError, InMemoryEventStore, NO_STREAM, type JsonObject } from '@csp/event-store';
import { describeEventStoreConformance } from '@csp/testing';
import { v4 as uuid } from 'uuid';

describeEventStoreConformance('in memory', async () => {
  const store = new InMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

describe('InMemoryEventStore', () => {
  it('refuses an id already recorded in another stream, as the durable stores do', async () => {
    const store = new InMemoryEventStore();
    const event = { id: uuid(), type: 'Recorded', data: {} };
    await store.appendToStream('first-1', [event], { expectedRevision: NO_STREAM });

    await expect(store.appendToStream('second-1', [event], { expectedRevision: NO_STREAM })).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
    expect(await store.readStream('second-1')).toEqual([]);
  });

  it('keeps what survives JSON only, and hands out copies a reader cannot change the log through', async () => {
    const store = new InMemoryEventStore();
    // An optional field left undefined, as a domain event may carry one; JsonObject does not admit it.
    const data = { kept: 'yes', dropped: undefined, nested: { list: [1, 2] } } as unknown as JsonObject;
    await store.appendToStream('order-1', [{ id: uuid(), type: 'Placed', data }], { expectedRevision: NO_STREAM });

    const [read] = await store.readStream('order-1');
    (read!.data['nested'] as { list: number[] }).list.push(3);

    const [again] = await store.readStream('order-1');
    expect(again!.data).toStrictEqual({ kept: 'yes', nested: { list: [1, 2] } });
  });

  it('stamps recordedAt with the clock it is given', async () => {
    const store = new InMemoryEventStore({ now: () => '2026-03-01T12:00:00.000Z' });
    await store.appendToStream('order-2', [{ id: uuid(), type: 'Placed', data: {} }], { expectedRevision: NO_STREAM });

    expect((await store.readStream('order-2'))[0]!.recordedAt).toBe('2026-03-01T12:00:00.000Z');
  });

  it('answers nothing once closed', async () => {
    const store = new InMemoryEventStore();
    await store.close();

    await expect(store.readStream('order-3')).rejects.toThrow('closed');
  });
});
