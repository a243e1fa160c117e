import type { AppendOptions, AppendResult, EventStore, EventToAppend } from '@csp/event-store';
import { EventStoreUnavailableError } from '@csp/event-store';
import { E2eApp } from '../support/e2e-harness';
import { buy, get, logPosition, ofType, registerCustomer, SKU } from './support/e2e-support';

/** The real store, whose appends to some streams fail as if the store had gone away. */
class FailingAppends implements EventStore {
  failingPrefix: string | undefined;

  constructor(private readonly inner: EventStore) {}

  appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    if (this.failingPrefix && streamName.startsWith(this.failingPrefix)) {
      return Promise.reject(new EventStoreUnavailableError(`append to ${streamName}`, new Error('injected')));
    }
    return this.inner.appendToStream(streamName, events, options);
  }

  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  subscribeToAll: EventStore['subscribeToAll'] = (...args) => this.inner.subscribeToAll(...args);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  close: EventStore['close'] = () => this.inner.close();
}

/** Once a command's own events are durable, a failure in what follows must not turn its answer into an error. */
describe('answers after partial failures', () => {
  let app: E2eApp;
  let store: FailingAppends;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start({ wrapEventStore: (inner) => (store = new FailingAppends(inner)) });
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());
  afterEach(() => {
    store.failingPrefix = undefined;
  });

  it('answers a cancellation 200 when only remembering its Idempotency-Key fails', async () => {
    const customer = await registerCustomer(app);
    const order = await buy(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    store.failingPrefix = 'idempotency-';

    const cancelled = await app
      .http()
      .patch(`/v1/customers/${customer.id}/subscriptions/${subscriptionId}`)
      .set('Authorization', admin)
      .set('Idempotency-Key', 'cancel-once')
      .send({ status: 'cancelled' });

    expect(cancelled.status).toBe(200);
    expect(cancelled.headers['x-log-position']).toBeDefined();
    expect(ofType(await app.events(), 'SubscriptionCancelled', subscriptionId)).toHaveLength(1);
  });

  it('answers a purchase 201 when starting its subscription fails, and the scheduler starts it later', async () => {
    const customer = await registerCustomer(app);
    store.failingPrefix = 'subscription-';

    const purchase = await app
      .http()
      .post(`/v1/customers/${customer.id}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] });
    expect(purchase.status).toBe(201);
    const subscriptionId = purchase.body.lineItems[0].subscriptionId as string;
    expect(ofType(await app.events(), 'SubscriptionStarted', subscriptionId)).toHaveLength(0);

    store.failingPrefix = undefined;
    await app.runScheduler();
    expect(ofType(await app.events(), 'SubscriptionStarted', subscriptionId)).toHaveLength(1);
    const list = await get(app, `/v1/customers/${customer.id}/subscriptions`, admin, logPosition(purchase));
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([subscriptionId]);
  });

  it('answers a purchase whose subscription is not durable yet with the line and the order pending, and finishes it within seconds', async () => {
    const customer = await registerCustomer(app);
    store.failingPrefix = 'subscription-';

    const purchase = await app
      .http()
      .post(`/v1/customers/${customer.id}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] });
    expect(purchase.status).toBe(201);
    expect(purchase.body.status).toBe('pending');
    expect(purchase.body.lineItems[0].status).toBe('pending');
    const subscriptionId = purchase.body.lineItems[0].subscriptionId as string;
    const path = `/v1/customers/${customer.id}/orders/${purchase.body.id}`;
    expect((await get(app, path, admin, logPosition(purchase))).body).toMatchObject({ status: 'pending', lineItems: [{ status: 'pending' }] });

    // The fault ends; no scheduler pass is run: the purchase's own retry must start the subscription.
    store.failingPrefix = undefined;
    const started = Date.now();
    while (ofType(await app.events(), 'SubscriptionStarted', subscriptionId).length === 0) {
      expect(Date.now() - started).toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const startedEvent = ofType(await app.events(), 'SubscriptionStarted', subscriptionId)[0]!;
    const order = await get(app, path, admin, `${startedEvent.position.commit}.${startedEvent.position.prepare}`);
    expect(order.body).toMatchObject({ status: 'completed', lineItems: [{ status: 'provisioned', subscriptionId }] });
  });
});
