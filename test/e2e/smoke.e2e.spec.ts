import { SqliteEventStore, type CodecEventStore } from '@csp/event-store';
import { EsdbEventStore } from '@csp/event-store/esdb';
import { E2eApp } from '../support/e2e-harness';

const customerId = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('smoke: register, buy, list at the answered position', () => {
  let app: E2eApp;
  beforeAll(async () => {
    app = await E2eApp.start();
  });
  afterAll(() => app.stop());

  it('runs on the event store this jest project selects', () => {
    const expected = process.env['E2E_EVENT_STORE'] === 'esdb' ? EsdbEventStore : SqliteEventStore;
    expect((app.eventStore as CodecEventStore).inner).toBeInstanceOf(expected);
  });

  it('lists a purchase at its own position without polling', async () => {
    const admin = await app.token({ roles: ['AdminAgent'] });
    await app
      .http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id: customerId, companyName: 'Contoso', domain: 'contoso.example', country: 'DE' })
      .expect(201);
    const purchase = await app
      .http()
      .post(`/v1/customers/${customerId}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'annual' }] })
      .expect(201);
    const position = purchase.headers['x-log-position'];
    expect(position).toMatch(/^\d+\.\d+$/);
    const list = await app
      .http()
      .get(`/v1/customers/${customerId}/subscriptions`)
      .set('Authorization', admin)
      .set('X-Min-Position', position)
      .expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([purchase.body.lineItems[0].subscriptionId]);
  });

  it('reports commands and every projection caught up in /metrics', async () => {
    const metrics = await app.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/commands_total\{command="PurchaseSoftware",outcome="succeeded"\} 1/);
    const head = await app.eventStore.headPosition();
    for (const projection of ['customers', 'orders', 'subscriptions']) {
      expect(metrics.text).toContain(`projection_lag_events{projection="${projection}"} 0`);
      expect(metrics.text).toContain(`projection_position{projection="${projection}"} ${head!.commit}`);
    }
  });
});
