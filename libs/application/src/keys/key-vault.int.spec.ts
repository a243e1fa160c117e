import { unwrapDataKey } from '@csp/event-store/codec/field-cipher';
import type { RecordedEvent } from '@csp/event-store';
import { keyShreddingReactor, type ReadModelDb } from '@csp/read-models';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { ManualClock } from '@csp/testing/manual-clock';
import { DataKeyDestroyedError, KeyVault, SqlIssuedKeyRegistry } from './key-vault';

const masterKey = Buffer.alloc(32, 9);

function cancellation(type: 'SubscriptionCancelled' | 'PerpetualLineCancelled', data: Record<string, string | number>): RecordedEvent {
  return {
    id: `e-${type}-${JSON.stringify(data)}`,
    streamName: 'x',
    revision: 0n,
    position: { commit: 1n, prepare: 1n },
    type,
    data: { cancelledAt: '2026-12-02T00:00:00.000Z', ...data },
    metadata: {},
    recordedAt: '2026-12-02T00:00:00.000Z',
  };
}

describe.each(readModelDialects)('key vault on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: ReadModelDb;
  let vault: KeyVault;
  const clock = new ManualClock('2026-12-01T00:00:00.000Z');

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db;
    vault = new KeyVault(db, masterKey, clock);
  });
  afterEach(() => opened.cleanup());

  const shred = (event: RecordedEvent) => db.transaction().execute((trx) => keyShreddingReactor.apply(trx as never, event));

  it('creates one data key per item on first use, stored only wrapped under the master key', async () => {
    const [first, concurrent] = await Promise.all([vault.dataKeyFor('sub-1'), vault.dataKeyFor('sub-1')]);
    expect(first).toHaveLength(32);
    expect(concurrent).toEqual(first);
    expect(await vault.dataKeyFor('sub-1')).toEqual(first);
    expect(await vault.dataKeyFor('order-1-2')).not.toEqual(first);
    const row = await db.selectFrom('data_keys').selectAll().where('software_id', '=', 'sub-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ created_at: '2026-12-01T00:00:00.000Z', destroyed_at: null });
    expect(row.wrapped_key).not.toContain(first.toString('base64url'));
    expect(unwrapDataKey(row.wrapped_key!, masterKey)).toEqual(first);
  });

  it('the shredding reactor destroys the key of a cancelled subscription or perpetual line, for good', async () => {
    await vault.dataKeyFor('sub-1');
    await vault.dataKeyFor('order-1-2');
    await vault.dataKeyFor('order-1-3');
    await shred(cancellation('SubscriptionCancelled', { subscriptionId: 'sub-1' }));
    await shred(cancellation('PerpetualLineCancelled', { orderId: 'order-1', lineItemNumber: 2 }));
    await shred(cancellation('SubscriptionCancelled', { subscriptionId: 'sub-1' }));
    expect(await vault.existingDataKey('sub-1')).toBeUndefined();
    expect(await vault.existingDataKey('order-1-2')).toBeUndefined();
    expect(await vault.existingDataKey('order-1-3')).toHaveLength(32);
    await expect(vault.dataKeyFor('sub-1')).rejects.toBeInstanceOf(DataKeyDestroyedError);
    const rows = await db.selectFrom('data_keys').selectAll().where('software_id', 'in', ['sub-1', 'order-1-2']).execute();
    expect(rows.map((row) => ({ wrapped: row.wrapped_key, destroyed: row.destroyed_at }))).toEqual([
      { wrapped: null, destroyed: '2026-12-02T00:00:00.000Z' },
      { wrapped: null, destroyed: '2026-12-02T00:00:00.000Z' },
    ]);
  });

  it('the shredding reactor leaves after a batch what it leaves after the same cancellations one by one', async () => {
    await vault.dataKeyFor('sub-1');
    await vault.dataKeyFor('order-1-2');
    const events = [
      cancellation('SubscriptionCancelled', { subscriptionId: 'sub-1' }),
      cancellation('PerpetualLineCancelled', { orderId: 'order-1', lineItemNumber: 2 }),
      cancellation('SubscriptionCancelled', { subscriptionId: 'sub-1', cancelledAt: '2026-12-03T00:00:00.000Z' }),
      cancellation('SubscriptionCancelled', { subscriptionId: 'sub-never' }),
    ];
    const rowsNow = () => db.selectFrom('data_keys').select(['software_id', 'wrapped_key', 'created_at', 'destroyed_at']).orderBy('software_id').execute();

    await db.transaction().execute((trx) => keyShreddingReactor.applyBatch!(trx as never, events));
    const batched = await rowsNow();
    await db.deleteFrom('data_keys').execute();
    await vault.dataKeyFor('sub-1');
    await vault.dataKeyFor('order-1-2');
    for (const event of events) await shred(event);
    const oneByOne = await rowsNow();

    expect(batched).toEqual(oneByOne);
    expect(batched.map(({ software_id, wrapped_key, destroyed_at }) => [software_id, wrapped_key, destroyed_at])).toEqual([
      ['order-1-2', null, '2026-12-02T00:00:00.000Z'],
      ['sub-1', null, '2026-12-02T00:00:00.000Z'],
      ['sub-never', null, '2026-12-02T00:00:00.000Z'],
    ]);
  });

  it('a cancellation before any key leaves a tombstone, so no key can be made for the item afterwards', async () => {
    await shred(cancellation('SubscriptionCancelled', { subscriptionId: 'sub-never' }));
    await expect(vault.dataKeyFor('sub-never')).rejects.toBeInstanceOf(DataKeyDestroyedError);
  });

  it('the issued-key registry claims each fingerprint once, also when claims race', async () => {
    const registry = new SqlIssuedKeyRegistry(db, clock);
    const claims = await Promise.all(Array.from({ length: 5 }, () => registry.claim('f'.repeat(64))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await registry.claim('e'.repeat(64))).toBe(true);
    expect(await registry.claim('e'.repeat(64))).toBe(false);
  });
});
