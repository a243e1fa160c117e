import type { AppendOptions, AppendResult, EventStore, EventToAppend, StreamAppend } from '@csp/event-store';
import { E2eApp } from '../support/e2e-harness';
import { ForwardingEventStore } from '@csp/testing/forwarding-event-store';
import { placeOrder, registerCustomer } from './support/e2e-support';

/** The log as the engine sees it, noting the streams of each append it is asked for. */
class AppendRecordingStore extends ForwardingEventStore {
  readonly appends: string[][] = [];
  readonly appendToStreams?: (appends: StreamAppend[]) => Promise<AppendResult[]>;

  constructor(inner: EventStore) {
    super(inner);
    const atOnce = inner.appendToStreams?.bind(inner);
    if (atOnce) {
      this.appendToStreams = (appends) => {
        this.appends.push(appends.map((append) => append.streamName));
        return atOnce(appends);
      };
    }
  }

  override appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    this.appends.push([streamName]);
    return super.appendToStream(streamName, events, options);
  }
}

const SUBSCRIPTION_LINE = { skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' } as const;
const PERPETUAL_LINE = { skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 1, billingCycle: 'oneTime' } as const;

describe('a purchase in the log', () => {
  let app: E2eApp;
  let store: AppendRecordingStore;

  beforeAll(async () => {
    app = await E2eApp.start({ wrapEventStore: (inner) => (store = new AppendRecordingStore(inner)) });
  });

  afterAll(() => app.stop());

  it('is one append of the order and its subscriptions where the log writes several streams at once, else the order first, then each subscription', async () => {
    const customer = await registerCustomer(app);
    store.appends.length = 0;

    const order = await placeOrder(app, customer.id, [SUBSCRIPTION_LINE, PERPETUAL_LINE, SUBSCRIPTION_LINE]);

    const streams = [`order-${order.id}`, ...order.subscriptionIds.map((id) => `subscription-${id}`)];
    expect(order.subscriptionIds).toHaveLength(2);
    expect(store.appends).toEqual(store.appendToStreams ? [streams] : streams.map((stream) => [stream]));
    const written = (await app.events()).filter((event) => streams.includes(event.streamName));
    expect(written.map((event) => [event.streamName, event.type])).toEqual([
      [streams[0], 'OrderPlaced'],
      [streams[1], 'SubscriptionStarted'],
      [streams[1], 'InstallmentBilled'],
      [streams[2], 'SubscriptionStarted'],
      [streams[2], 'InstallmentBilled'],
    ]);
    expect(written.map((event) => event.metadata['commandType'])).toEqual(['PurchaseSoftware', ...Array(4).fill('StartSubscription')]);
  });

  it('with an Idempotency-Key goes stream by stream, where a retry finds what its first run wrote', async () => {
    const customer = await registerCustomer(app);
    store.appends.length = 0;
    const send = async () =>
      app
        .http()
        .post(`/v1/customers/${customer.id}/orders`)
        .set('Authorization', await app.token({ roles: ['AdminAgent'] }))
        .set('Idempotency-Key', `purchase-${customer.id}`)
        .send({ lineItems: [SUBSCRIPTION_LINE] });

    const first = await send();
    const retry = await send();

    expect(first.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    const subscriptionId = first.body.lineItems[0].subscriptionId as string;
    // Beside the key's own stream (idempotency-…), which both runs append to.
    const purchaseAppends = store.appends.filter((streams) => !streams.some((stream) => stream.startsWith('idempotency-')));
    expect(purchaseAppends).toEqual([[`order-${first.body.id}`], [`subscription-${subscriptionId}`]]);
  });
});
