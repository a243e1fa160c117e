import { configFromEnv } from '@csp/engine/config/engine-config';
import type { RecordedEvent } from '@csp/event-store';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { ProjectorModule } from '../../apps/projector/src/projector.module';
import { E2eApp } from '../support/e2e-harness';
import { expectProblem, placeOrder, registerCustomer, SKU } from './support/e2e-support';
import { eventually, WebhookReceiver, type ReceivedDelivery } from './support/webhook-receiver';

/** Retries start after 1 s and give up after 10 minutes of the (manual) engine clock. */
const RETRY_WINDOW_MS = 10 * 60 * 1000;

/**
 * The public types each domain event yields, written out from the README's contract table (not from
 * the service's mapping), in the order a consumer receives them.
 */
function expectedTypes(event: RecordedEvent): string[] {
  switch (event.type) {
    case 'OrderPlaced':
      return ['order.placed'];
    case 'SubscriptionStarted':
      return ['subscription.started'];
    case 'SubscriptionRenewed':
      return ['subscription.renewed'];
    case 'SubscriptionExpired':
      return ['subscription.expired'];
    case 'AutoRenewChanged':
      return ['subscription.autorenew_changed'];
    case 'SubscriptionCancelled':
      return ['subscription.cancelled', 'software.revoked', ...((event.data['refund'] as { amount: number }).amount > 0 ? ['ledger.entry_recorded'] : [])];
    case 'PerpetualLineCancelled':
      return ['perpetual.cancelled', 'software.revoked', 'ledger.entry_recorded'];
    case 'InstallmentBilled':
    case 'InstallmentVoided':
      return ['ledger.entry_recorded'];
    case 'FutureInstallmentsVoided':
      return (event.data['installments'] as unknown[]).map(() => 'ledger.entry_recorded');
    default:
      return [];
  }
}

/** What the log says a partner's consumers must receive, as `[type, source event id]`, in log order. */
function expectedFromLog(events: RecordedEvent[], customerIds: string[]): [string, string][] {
  return events
    .filter((event) => customerIds.includes(String(event.data['customerId'])))
    .flatMap((event) => expectedTypes(event).map((type): [string, string] => [type, event.id]));
}

const received = (deliveries: ReceivedDelivery[]): [string, string][] => deliveries.map(({ event }) => [event.type, event.id.split(':')[0]!]);

describe('integration events: feed and signed webhooks', () => {
  let app: E2eApp;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    app = await E2eApp.start({
      env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '1000', WEBHOOK_RETRY_WINDOW_MS: String(RETRY_WINDOW_MS) },
    });
  });
  afterAll(async () => {
    await app.stop();
    for (const receiver of receivers) await receiver.stop();
  });

  /** A partner of its own, its tokens and a registered webhook pointing at a fresh receiver. */
  async function partnerWithWebhook(types?: string[]) {
    const partner = `partner-wh-${randomUUID().slice(0, 8)}`;
    const admin = await app.token({ roles: ['GlobalAdmin'], tenant: partner });
    const agent = await app.token({ roles: ['AdminAgent'], tenant: partner });
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    const created = await app
      .http()
      .post('/v1/webhooks')
      .set('Authorization', admin)
      .send({ url: receiver.url, ...(types ? { types } : {}), description: 'test receiver' })
      .expect(201);
    receiver.secrets = [created.body.secret];
    return { partner, admin, agent, receiver, webhook: created.body as { id: string; secret: string; url: string; types: string[] } };
  }

  /** Every page of a partner's feed from position 0, `limit` at a time (reflecting at least `minPosition`). */
  async function followFeed(token: string, limit: number, minPosition?: string): Promise<ReceivedDelivery['event'][]> {
    const items: ReceivedDelivery['event'][] = [];
    let after = '0';
    for (;;) {
      const call = app.http().get(`/v1/events?after=${after}&limit=${limit}`).set('Authorization', token);
      const page = await (minPosition ? call.set('X-Min-Position', minPosition) : call).expect(200);
      if (page.body.items.length === 0) return items;
      items.push(...page.body.items);
      after = page.body.lastPosition;
    }
  }

  /** Moves the engine clock in steps until `condition` holds, so due retries run. */
  async function advanceUntil(condition: () => boolean | Promise<boolean>, stepMs: number, describe: () => string): Promise<void> {
    for (let step = 0; step < 200 && !(await condition()); step++) {
      app.clock.advanceMs(stepMs);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    if (!(await condition())) throw new Error(`timed out: ${describe()}`);
  }

  it('delivers every lifecycle change, scheduler renewals and expiries included, once per id, in log order, verifiably signed', async () => {
    const { agent, receiver, webhook } = await partnerWithWebhook();
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const customer = await registerCustomer(app, { token: agent });
    const renewing = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }], agent);
    const expiring = await placeOrder(app, customer.id, [{ skuId: SKU.standard1y, quantity: 2, billingCycle: 'annual' }], agent);
    const cancelled = await placeOrder(app, customer.id, [{ skuId: SKU.sqlStandard1y, quantity: 1, billingCycle: 'annual' }], agent);
    const perpetual = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], agent);
    await app
      .http()
      .patch(`/v1/customers/${customer.id}/subscriptions/${expiring.subscriptionIds[0]}`)
      .set('Authorization', agent)
      .send({ autoRenewEnabled: false })
      .expect(200);
    app.clock.advanceDays(2);
    await app.http().patch(`/v1/customers/${customer.id}/subscriptions/${cancelled.subscriptionIds[0]}`).set('Authorization', agent).send({ status: 'cancelled' }).expect(200);
    await app.http().patch(`/v1/customers/${customer.id}/orders/${perpetual.id}`).set('Authorization', agent).send({ status: 'cancelled' }).expect(200);
    app.clock.advanceDays(366);
    await app.runScheduler();

    const log = await app.events();
    const expected = expectedFromLog(log, [customer.id]);
    await eventually(() => receiver.unique().length >= expected.length, () => `${receiver.unique().length} of ${expected.length} delivered`);

    expect(received(receiver.deliveries)).toEqual(expected);
    expect(new Set(receiver.deliveries.map((delivery) => delivery.webhookId)).size).toBe(receiver.deliveries.length);
    expect(receiver.rejected).toEqual([]);
    const types = receiver.deliveries.map(({ event }) => event.type);
    expect(types).toEqual(expect.arrayContaining(['subscription.renewed', 'subscription.expired', 'subscription.cancelled', 'perpetual.cancelled', 'software.revoked', 'subscription.autorenew_changed']));
    expect(receiver.deliveries.every(({ event, webhookId }) => event.id === webhookId && event.tenant === customer.id)).toBe(true);
    const renewal = receiver.deliveries.find(({ event }) => event.type === 'subscription.renewed')!;
    expect(renewal.event.data).toMatchObject({ subscriptionId: renewing.subscriptionIds[0], termNumber: 2 });
    const expiry = receiver.deliveries.find(({ event }) => event.type === 'subscription.expired')!;
    expect(expiry.event.data).toMatchObject({ subscriptionId: expiring.subscriptionIds[0] });
    const refund = receiver.deliveries.find(({ event }) => event.type === 'subscription.cancelled')!;
    expect(refund.event.data['refund']).toMatchObject({ currency: 'EUR', usedDays: 2 });
    expect(JSON.stringify(receiver.deliveries)).not.toMatch(/productKey/);
  });

  it('keeps the order when the receiver fails its first five answers, retrying on the engine clock', async () => {
    const { agent, admin, receiver, webhook } = await partnerWithWebhook();
    receiver.failNext(5);
    const customer = await registerCustomer(app, { token: agent });
    await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }], agent);
    const second = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], agent);
    await app.http().patch(`/v1/customers/${customer.id}/orders/${second.id}`).set('Authorization', agent).send({ status: 'cancelled' }).expect(200);
    const expected = expectedFromLog(await app.events(), [customer.id]);

    await eventually(() => receiver.refusedCount === 1, () => 'the first attempt');
    await advanceUntil(() => receiver.unique().length >= expected.length, 5_000, () => `${receiver.unique().length} of ${expected.length} delivered`);

    expect(receiver.refusedCount).toBe(5);
    expect(received(receiver.deliveries)).toEqual(expected);
    // The receiver holds an event before the dispatcher has recorded its answer: wait for the record.
    let deliveries = await app.http().get(`/v1/webhooks/${webhook.id}/deliveries`).set('Authorization', admin).expect(200);
    await eventually(
      async () => {
        deliveries = await app.http().get(`/v1/webhooks/${webhook.id}/deliveries`).set('Authorization', admin).expect(200);
        return deliveries.body.items.every((item: { status: string }) => item.status === 'delivered') && deliveries.body.totalCount === expected.length;
      },
      () => `${deliveries.body.totalCount} of ${expected.length} deliveries recorded as delivered`,
    );
    expect(deliveries.body.items[0]).toMatchObject({ eventId: receiver.deliveries[0]!.webhookId, status: 'delivered', attempts: 6, lastStatusCode: 204, nextAttemptAt: null });
    expect(deliveries.body.items.slice(1).every((item: { attempts: number; status: string }) => item.attempts === 1 && item.status === 'delivered')).toBe(true);
    expect(deliveries.body.totalCount).toBe(expected.length);
    // The same deliveries two at a time: each page holds what its size allows, in order, to the end.
    const paged: unknown[] = [];
    let continuation: string | undefined;
    do {
      const query = continuation ? `size=2&continuationToken=${encodeURIComponent(continuation)}` : 'size=2';
      const page = (await app.http().get(`/v1/webhooks/${webhook.id}/deliveries?${query}`).set('Authorization', admin).expect(200)).body;
      expect(page.items.length).toBe(Math.min(2, expected.length - paged.length));
      paged.push(...page.items);
      continuation = page.continuationToken;
    } while (continuation);
    expect(paged).toEqual(deliveries.body.items);
  });

  it('disables an endpoint whose receiver stays down for longer than the retry window, with the reason, and resumes after a redelivery', async () => {
    const { agent, admin, receiver, webhook } = await partnerWithWebhook();
    await receiver.stop();
    const customer = await registerCustomer(app, { token: agent });
    const order = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }], agent);
    const webhookState = async () => (await app.http().get(`/v1/webhooks/${webhook.id}`).set('Authorization', admin).expect(200)).body;

    await eventually(async () => {
      const deliveries = await app.http().get(`/v1/webhooks/${webhook.id}/deliveries`).set('Authorization', admin);
      return deliveries.body.items?.[0]?.attempts === 1;
    }, () => 'the first attempt');
    const firstAttempt = Date.parse(app.clock.now());
    await advanceUntil(async () => (await webhookState()).status === 'disabled', 60_000, () => 'the endpoint to be disabled');

    const disabled = await webhookState();
    expect(Date.parse(disabled.disabledAt) - firstAttempt).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
    expect(disabled.disabledReason).toMatch(/could not be delivered/);
    expect(disabled.disabledReason).toMatch(/ECONNREFUSED/);
    const deliveries = (await app.http().get(`/v1/webhooks/${webhook.id}/deliveries`).set('Authorization', admin).expect(200)).body.items;
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ eventType: 'order.placed', status: 'failed', lastStatusCode: null });
    expect(deliveries[0].attempts).toBeGreaterThan(5);

    // Up again: a redelivery from the failed event's position enables the endpoint and sends everything in order.
    await receiver.start();
    await app.http().post(`/v1/webhooks/${webhook.id}/redeliveries`).set('Authorization', admin).send({ fromPosition: deliveries[0].position }).expect(200);
    const expected = expectedFromLog(await app.events(), [customer.id]);
    await eventually(() => receiver.unique().length >= expected.length, () => `${receiver.unique().length} of ${expected.length} delivered`);
    expect(received(receiver.deliveries)).toEqual(expected);
    expect((await webhookState()).status).toBe('enabled');
    expect(order.subscriptionIds).toHaveLength(1);
  });

  it('answers the same events from the feed followed from position 0 as the webhook delivers, and never another partner’s', async () => {
    const ours = await partnerWithWebhook();
    const theirs = await partnerWithWebhook();
    const ourCustomer = await registerCustomer(app, { token: ours.agent });
    const theirCustomer = await registerCustomer(app, { token: theirs.agent });
    for (const [side, customer] of [[ours, ourCustomer], [theirs, theirCustomer]] as const) {
      const order = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }, { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], side.agent);
      await app.http().patch(`/v1/customers/${customer.id}/subscriptions/${order.subscriptionIds[0]}`).set('Authorization', side.agent).send({ status: 'cancelled' }).expect(200);
    }
    const log = await app.events();
    const expectedOurs = expectedFromLog(log, [ourCustomer.id]);
    const expectedTheirs = expectedFromLog(log, [theirCustomer.id]);
    await eventually(
      () => ours.receiver.unique().length >= expectedOurs.length && theirs.receiver.unique().length >= expectedTheirs.length,
      () => `${ours.receiver.unique().length}/${expectedOurs.length} and ${theirs.receiver.unique().length}/${expectedTheirs.length}`,
    );

    const ourFeed = await followFeed(ours.admin, 2);
    const theirFeed = await followFeed(await app.token({ roles: ['Importer'], kind: 'service', tenant: theirs.partner }), 3);

    expect(ourFeed).toEqual(ours.receiver.deliveries.map(({ event }) => event));
    expect(theirFeed).toEqual(theirs.receiver.deliveries.map(({ event }) => event));
    expect(received(ours.receiver.deliveries)).toEqual(expectedOurs);
    expect(ourFeed.every((event) => event.tenant === ourCustomer.id)).toBe(true);
    expect(theirFeed.every((event) => event.tenant === theirCustomer.id)).toBe(true);
    expect(ours.receiver.deliveries.some(({ event }) => event.tenant === theirCustomer.id)).toBe(false);
  });

  it('long-polls: a waiting feed request answers as soon as the next event is in', async () => {
    const { agent } = await partnerWithWebhook();
    const customer = await registerCustomer(app, { token: agent });
    const placed = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], agent);
    const first = await followFeed(agent, 100, placed.position);
    const last = first.at(-1)!.position;

    const started = Date.now();
    const waiting = app.http().get(`/v1/events?after=${last}&wait=20&types=perpetual.cancelled`).set('Authorization', agent);
    const answer = new Promise<{ status: number; body: { items: { type: string }[]; lastPosition: string } }>((resolve, reject) => waiting.then(resolve, reject));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const order = first.find((event) => event.type === 'order.placed')!.data['orderId'];
    await app.http().patch(`/v1/customers/${customer.id}/orders/${order}`).set('Authorization', agent).send({ status: 'cancelled' }).expect(200);
    const page = await answer;

    expect(page.status).toBe(200);
    expect(page.body.items.map((item) => item.type)).toEqual(['perpetual.cancelled']);
    expect(Date.now() - started).toBeLessThan(10_000);
    const empty = await app.http().get(`/v1/events?after=${page.body.lastPosition}&wait=1`).set('Authorization', agent).expect(200);
    expect(empty.body).toEqual({ items: [], lastPosition: page.body.lastPosition });
  });

  it('signs with the old and the new secret while a rotation overlaps', async () => {
    const { agent, admin, receiver, webhook } = await partnerWithWebhook();
    const rotated = await app.http().post(`/v1/webhooks/${webhook.id}/secret-rotations`).set('Authorization', admin).send({ overlapSeconds: 3600 }).expect(200);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    receiver.secrets = [rotated.body.secret];
    await registerCustomer(app, { token: agent }).then((customer) => placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], agent));
    await eventually(() => receiver.deliveries.length >= 1, () => 'a delivery');

    const [delivery] = receiver.deliveries;
    expect(delivery!.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(webhook.secret).verify(delivery!.rawBody, delivery!.headers)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(delivery!.rawBody, delivery!.headers)).not.toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(delivery!.rawBody, delivery!.headers)).toThrow();
    const listed = await app.http().get('/v1/webhooks').set('Authorization', admin).expect(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: webhook.id, previousSecretExpiresAt: expect.any(String), status: 'enabled' })]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  it('refuses addresses outside the rules, other partners and other roles', async () => {
    const partner = `partner-wh-${randomUUID().slice(0, 8)}`;
    const admin = await app.token({ roles: ['GlobalAdmin'], tenant: partner });
    const create = (url: string) => app.http().post('/v1/webhooks').set('Authorization', admin).send({ url });

    for (const url of ['http://hooks.example.com/x', 'https://10.1.2.3/x', 'https://localhost/x', 'https://[::1]/x', 'https://169.254.169.254/latest', 'https://user:pw@hooks.example.com/x']) {
      expectProblem(await create(url), 422, 'WEBHOOK_URL_NOT_ALLOWED');
    }
    expectProblem(await create('not a url'), 400, 'VALIDATION_FAILED');
    expectProblem(await app.http().post('/v1/webhooks').set('Authorization', admin).send({ url: 'https://hooks.example.com/x', types: ['order.shipped'] }), 400, 'VALIDATION_FAILED');
    const created = await create('https://hooks.example.com/x').expect(201);
    expect(created.body).toMatchObject({ url: 'https://hooks.example.com/x', types: [], status: 'enabled' });

    const stranger = await app.token({ roles: ['GlobalAdmin'], tenant: 'partner-someone-else' });
    expectProblem(await app.http().get(`/v1/webhooks/${created.body.id}`).set('Authorization', stranger), 404, 'UNKNOWN_WEBHOOK');
    expectProblem(await app.http().delete(`/v1/webhooks/${created.body.id}`).set('Authorization', stranger), 404, 'UNKNOWN_WEBHOOK');
    const agent = await app.token({ roles: ['AdminAgent'], tenant: partner });
    expectProblem(await app.http().get('/v1/webhooks').set('Authorization', agent), 403, 'FORBIDDEN');
    expectProblem(await app.http().get('/v1/events').set('Authorization', await app.token({ roles: ['AccountAdmin'], tenant: partner })), 403, 'FORBIDDEN');
    expectProblem(await app.http().get('/v1/events').set('Authorization', await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: randomUUID() })), 403, 'FORBIDDEN');
    expectProblem(await app.http().get('/v1/events?wait=31').set('Authorization', admin), 400, 'VALIDATION_FAILED');
    expectProblem(await app.http().get('/v1/events?after=abc').set('Authorization', admin), 400, 'VALIDATION_FAILED');

    const deleted = await app.http().delete(`/v1/webhooks/${created.body.id}`).set('Authorization', admin).expect(200);
    expect(deleted.body).toMatchObject({ id: created.body.id, url: 'https://hooks.example.com/x' });
    expectProblem(await app.http().get(`/v1/webhooks/${created.body.id}`).set('Authorization', admin), 404, 'UNKNOWN_WEBHOOK');
  });
});

/** The split deployment: api replicas only change endpoints; the projector process delivers, exactly once per event here. */
describe('webhooks with an external projector', () => {
  let api: E2eApp;
  let projector: INestApplicationContext | undefined;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    api = await E2eApp.start({ env: { PROJECTIONS: 'external', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await projector?.close();
    await api.stop();
    await receiver.stop();
  });

  it('delivers from the projector only, every event once, in log order', async () => {
    const admin = await api.token({ roles: ['GlobalAdmin'], tenant: 'partner-split' });
    const agent = await api.token({ roles: ['AdminAgent'], tenant: 'partner-split' });
    const created = await api.http().post('/v1/webhooks').set('Authorization', admin).send({ url: receiver.url }).expect(201);
    receiver.secrets = [created.body.secret];
    projector = await NestFactory.createApplicationContext(ProjectorModule.forRoot(configFromEnv({ ...api.env, PROJECTIONS: 'in-process' }), api.env), { logger: false });
    await projector.init();

    const customer = await registerCustomer(api, { token: agent });
    await placeOrder(api, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }, { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }], agent);
    const expected = expectedFromLog(await api.events(), [customer.id]);
    await eventually(() => receiver.unique().length >= expected.length, () => `${receiver.unique().length} of ${expected.length} delivered`);
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(received(receiver.deliveries)).toEqual(expected);
    expect(receiver.rejected).toEqual([]);
  });
});
