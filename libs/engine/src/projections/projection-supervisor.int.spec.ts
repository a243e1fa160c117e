import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import { SqliteEventStore, type LogSubscription, type RecordedEvent, type SubscribeOptions } from '@csp/event-store';
import { ForwardingEventStore } from '@csp/testing/forwarding-event-store';
import { openSqliteReadModels, projectionRegistry, type ReadModelDb } from '@csp/read-models';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { configFromEnv } from '../config/engine-config';
import { Metrics } from '../observability/metrics.service';
import { ProjectionSupervisor } from './projection-supervisor.service';

/** The real SQLite store whose first live subscription breaks after one event, as a dropped connection would. */
class FirstSubscriptionBreaks extends ForwardingEventStore {
  subscriptions = 0;

  override subscribeToAll(options?: SubscribeOptions): LogSubscription {
    const subscription = this.inner.subscribeToAll(options);
    if (++this.subscriptions > 1) return subscription;
    return {
      close: () => subscription.close(),
      async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
        for await (const event of subscription) {
          yield event;
          throw new Error('connection reset');
        }
      },
    };
  }
}

function registered(customerId: string): CustomerRegistered {
  return {
    type: 'CustomerRegistered',
    data: { customerId, partnerId: 'partner-1', companyName: customerId, domain: `${customerId}.example`, country: 'DE', registeredAt: '2026-11-30T00:00:00.000Z' },
  };
}

describe('ProjectionSupervisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csp-projection-'));
  let store: FirstSubscriptionBreaks;
  let db: ReadModelDb;
  let projection: ProjectionSupervisor;
  const metrics = new Metrics();

  beforeAll(async () => {
    store = new FirstSubscriptionBreaks(SqliteEventStore.open(join(dir, 'events.db')));
    db = await openSqliteReadModels(join(dir, 'read-models.db'));
    projection = new ProjectionSupervisor(store, db, configFromEnv({ DATA_DIR: dir, PROJECTIONS: 'in-process' }), projectionRegistry, metrics);
  });
  afterAll(async () => {
    await projection.onModuleDestroy();
    metrics.onApplicationShutdown();
    await store.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function register(customerId: string): Promise<void> {
    const { type, data } = registered(customerId);
    await store.appendToStream(`customer-${customerId}`, [{ id: uuidv7(), type, data }], { expectedRevision: 'no_stream' });
  }

  it('restarts from its checkpoint after the live subscription fails, and folds what came after', async () => {
    await register('before-start');
    await projection.onApplicationBootstrap();
    for (const customerId of ['live-1', 'live-2', 'live-3']) await register(customerId);

    await projection.catchUpWithLog(5000);
    const rows = await db.selectFrom('customers').select('id').orderBy('id').execute();
    expect(rows.map((row) => row.id)).toEqual(['before-start', 'live-1', 'live-2', 'live-3']);

    // A restarted runner catches up from its checkpoint first and subscribes again once it has: the
    // read models can show the head a turn of the event loop before the new subscription exists.
    await resubscribed(5000);
    await register('live-4');
    await projection.catchUpWithLog(5000);
    const after = await db.selectFrom('customers').select('id').where('id', '=', 'live-4').execute();
    expect(after).toHaveLength(1);
  });

  async function resubscribed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (store.subscriptions < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.subscriptions).toBeGreaterThanOrEqual(2);
  }
});
