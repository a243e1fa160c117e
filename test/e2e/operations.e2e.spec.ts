import { E2eApp } from '../support/e2e-harness';
import { buy, postOrder, registerCustomer, SKU } from './support/e2e-support';

/** API.md "Operations" and the OpenAPI document: /health, /metrics, /docs-json, /docs. */
describe('operations: health, metrics and the OpenAPI document', () => {
  let app: E2eApp;

  beforeAll(async () => {
    app = await E2eApp.start();
  });
  afterAll(() => app.stop());

  /** `commands_total{command="X",outcome="Y"} n` from the Prometheus text, 0 when absent. */
  async function commandCount(command: string, outcome: string): Promise<number> {
    const text = (await app.http().get('/metrics')).text;
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith('commands_total{') && candidate.includes(`command="${command}"`) && candidate.includes(`outcome="${outcome}"`));
    return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
  }

  it('GET /health/ready answers 200 without a token and reports the stores, the projections and the scheduler; GET /health is liveness', async () => {
    const response = await app.http().get('/health/ready');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', checks: { eventStore: 'ok', readStore: 'ok', projections: 'ok', scheduler: 'ok' } });
    expect((await app.http().get('/health')).body).toEqual({ status: 'ok' });
  });

  it('GET /metrics has a request-duration histogram per route pattern and status, refusals included', async () => {
    await app.http().get('/health/ready').expect(200);
    await app.http().get('/v1/products').set('Authorization', await app.token({ roles: ['AdminAgent'] })).expect(400);
    const text = (await app.http().get('/metrics')).text;
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/health\/ready",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/v1\/products",status="400"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/products",status="400"\} \d+/m);
  });

  it('GET /metrics is Prometheus text that counts commands by name and outcome', async () => {
    const purchasesBefore = await commandCount('PurchaseSoftware', 'succeeded');
    const rejectedBefore = await commandCount('PurchaseSoftware', 'rejected');
    const customer = await registerCustomer(app);
    await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    await buy(app, customer.id, [{ skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' }]);
    expect((await postOrder(app, customer.id, [{ skuId: 'nope:P1Y', quantity: 1, billingCycle: 'annual' }])).status).toBe(422);

    const response = await app.http().get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toContain('# TYPE commands_total counter');
    expect(await commandCount('RegisterCustomer', 'succeeded')).toBeGreaterThanOrEqual(1);
    expect(await commandCount('PurchaseSoftware', 'succeeded')).toBe(purchasesBefore + 2);
    expect(await commandCount('PurchaseSoftware', 'rejected')).toBe(rejectedBefore + 1);
  });

  it('GET /metrics shows errors by code and the projection progress', async () => {
    await app.http().get('/v1/products?country=DE');
    const text = (await app.http().get('/metrics')).text;
    expect(text).toMatch(/http_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
    expect(text).toMatch(/projection/);
  });

  /** The unlabelled series of one scrape of /metrics, e.g. `event_log_commit_appends_sum`, by name. */
  async function scrape(): Promise<(name: string) => number> {
    const lines = (await app.http().get('/metrics')).text.split('\n');
    return (name) => {
      const line = lines.find((candidate) => candidate.startsWith(`${name} `));
      if (!line) throw new Error(`/metrics has no series ${name}`);
      return Number(line.split(' ')[1]);
    };
  }

  it("GET /metrics times the embedded log's group commits and counts the appends in each (zero on EventStoreDB)", async () => {
    const before = await scrape();
    const customer = await registerCustomer(app);
    await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    // One scrape for every figure compared below, so a commit between two scrapes cannot split them.
    const after = await scrape();

    const commits = after('event_log_commit_duration_seconds_count') - before('event_log_commit_duration_seconds_count');
    const appends = after('event_log_commit_appends_sum') - before('event_log_commit_appends_sum');
    if (app.env['EVENTSTORE_CONNECTION_STRING']) {
      expect([commits, appends]).toEqual([0, 0]);
      return;
    }
    // A registration and two purchases, one after the other: each at least one append and one commit.
    expect(commits).toBeGreaterThanOrEqual(3);
    expect(appends).toBeGreaterThanOrEqual(3);
    expect(after('event_log_commit_appends_count')).toBe(after('event_log_commit_duration_seconds_count'));
    expect(after('event_log_commit_duration_seconds_sum') - before('event_log_commit_duration_seconds_sum')).toBeGreaterThan(0);
    expect(after('event_log_commit_duration_seconds_bucket{le="+Inf"}')).toBe(after('event_log_commit_duration_seconds_count'));
  });

  it('GET /metrics times each live projection batch: its events, its fold and commit, and how long after the log it became visible', async () => {
    // Every event written so far folded first (the previous test's purchases may still be on their
    // way), so each batch counted below holds only events this test writes after startedAt.
    const earlier = await registerCustomer(app);
    await app
      .http()
      .get(`/v1/customers/${earlier.id}`)
      .set('Authorization', await app.token({ roles: ['AdminAgent'] }))
      .set('X-Min-Position', earlier.position)
      .expect(200);
    const before = await scrape();
    const startedAt = Date.now();
    const customer = await registerCustomer(app);
    const bought = await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    // Answered once every read model holds the purchase: its batch has committed by then.
    await app
      .http()
      .get(`/v1/customers/${customer.id}`)
      .set('Authorization', await app.token({ roles: ['AdminAgent'] }))
      .set('X-Min-Position', String(bought.headers['x-log-position']))
      .expect(200);
    const waitedMs = Date.now() - startedAt;
    const after = await scrape();

    const batches = after('projection_batch_events_count') - before('projection_batch_events_count');
    // The registration and the purchase: one batch each, or one for both.
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(after('projection_batch_events_sum') - before('projection_batch_events_sum')).toBeGreaterThanOrEqual(2);
    expect(after('projection_visible_after_seconds_count') - before('projection_visible_after_seconds_count')).toBe(batches);
    expect(after('projection_batch_fold_seconds_count') - before('projection_batch_fold_seconds_count')).toBe(batches);
    expect(after('projection_batch_fold_seconds_sum') - before('projection_batch_fold_seconds_sum')).toBeGreaterThan(0);
    // Each batch's events were written and folded within this test's own wait.
    const visibleAfterSeconds = after('projection_visible_after_seconds_sum') - before('projection_visible_after_seconds_sum');
    expect(visibleAfterSeconds).toBeGreaterThanOrEqual(0);
    expect(visibleAfterSeconds).toBeLessThanOrEqual((batches * (waitedMs + 1)) / 1000);
    expect(after('projection_visible_after_seconds_bucket{le="+Inf"}')).toBe(after('projection_visible_after_seconds_count'));
  });

  it('GET /docs-json is an OpenAPI 3 document listing the /v1 paths', async () => {
    const response = await app.http().get('/docs-json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(response.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/customers',
        '/v1/customers/{customerId}',
        '/v1/products',
        '/v1/customers/{customerId}/orders',
        '/v1/customers/{customerId}/orders/{orderId}',
        '/v1/customers/{customerId}/subscriptions',
        '/v1/customers/{customerId}/subscriptions/{subscriptionId}',
        '/v1/import/purchases',
      ]),
    );
    expect(Object.keys(response.body.paths['/v1/customers/{customerId}/orders/{orderId}'])).toEqual(
      expect.arrayContaining(['get', 'patch']),
    );
    expect(Object.keys(response.body.paths['/v1/customers/{customerId}/subscriptions/{subscriptionId}'])).toEqual(
      expect.arrayContaining(['get', 'patch']),
    );
    // Bearer authentication is declared.
    expect(JSON.stringify(response.body.components?.securitySchemes ?? {})).toMatch(/bearer/i);
  });

  it('GET /docs-json documents the problem answers with their codes and the consistency and idempotency headers', async () => {
    const document = (await app.http().get('/docs-json')).body;
    const cancel = document.paths['/v1/customers/{customerId}/subscriptions/{subscriptionId}'].patch;
    expect(cancel.responses['422'].description).toMatch(/CANCELLATION_WINDOW_CLOSED/);
    expect(cancel.responses['409'].description).toMatch(/ALREADY_CANCELLED/);
    expect(cancel.responses['422'].content['application/problem+json'].schema.allOf[0].$ref).toBe('#/components/schemas/Problem');
    expect(document.components.schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']));
    expect(cancel.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['Idempotency-Key', 'X-Min-Position']));
    expect(Object.keys(cancel.responses['200'].headers)).toContain('X-Log-Position');
    const list = document.paths['/v1/customers/{customerId}/subscriptions'].get;
    expect(list.parameters.map((parameter: { name: string }) => parameter.name)).toContain('X-Min-Position');
    expect(list.responses['503'].description).toMatch(/PROJECTION_LAGGING/);
  });

  it('GET /docs serves a browsable page', async () => {
    const response = await app.http().get('/docs').redirects(1);
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/<html/i);
  });
});
