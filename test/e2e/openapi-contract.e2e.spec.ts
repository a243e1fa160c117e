import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { E2eApp } from '../support/e2e-harness';
import { OpenApiAnswerValidator, validatorFor, type Answer } from '../support/openapi-answer-validator';

type Json = Record<string, any>;

/** supertest's response keeps its members on getters a spread would drop. */
function answerOf(response: Answer, change: Partial<Answer> = {}): Answer {
  return { status: response.status, headers: response.headers, body: response.body, text: response.text ?? '', ...change };
}

const COMMITTED = join(__dirname, '../../docs/openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operationsOf(document: Json): Array<{ key: string; operation: Json }> {
  return Object.entries(document['paths'] as Json).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ key: `${method.toUpperCase()} ${path}`, operation: item[method] as Json })),
  );
}

describe('the OpenAPI document', () => {
  let app: E2eApp;
  let served: Json;
  let servedText: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    const answer = await request(app.app.getHttpServer()).get('/docs-json').expect(200);
    servedText = answer.text;
    served = JSON.parse(servedText) as Json;
  });
  afterAll(() => app.stop());

  it('is the committed docs/openapi.json (after a change: npm run openapi:write)', () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as Json;
    const hint = 'docs/openapi.json differs from the served document; run `npm run openapi:write` and commit the result';
    expect({ hint, document: served }).toEqual({ hint, document: committed });
  });

  it('is OpenAPI 3.1 with a bearer scheme', () => {
    expect(served['openapi']).toBe('3.1.0');
    expect(served['components']['securitySchemes']['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('gives every operation a summary, its roles, a schema for its success and problem answers with their codes', () => {
    const incomplete = operationsOf(served).flatMap(({ key, operation }) => {
      const gaps: string[] = [];
      if (!operation['summary']) gaps.push('summary');
      if (!Array.isArray(operation['x-roles'])) gaps.push('x-roles');
      const successes = Object.entries(operation['responses'] as Json).filter(([status]) => status.startsWith('2'));
      if (successes.length === 0 || successes.some(([, response]) => !response.content)) gaps.push('a success body');
      for (const [status, response] of Object.entries(operation['responses'] as Json)) {
        if (Number(status) >= 400 && !response.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.code?.enum) gaps.push(`codes of ${status}`);
      }
      return gaps.length > 0 ? [`${key}: ${gaps.join(', ')}`] : [];
    });
    expect(incomplete).toEqual([]);
  });

  it('marks the market required on the catalogue and states the order limits', () => {
    const products = served['paths']['/v1/products']['get'];
    expect(products.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'country', in: 'query', required: true })]));
    const line = served['components']['schemas']['OrderLineItemDto'];
    expect(line.properties.quantity).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000 });
    expect(served['components']['schemas']['CreateOrderDto'].properties.lineItems).toMatchObject({ minItems: 1, maxItems: 50 });
  });

  it('lists only the codes an operation can answer: the catalogue never answers CUSTOMER_ALREADY_EXISTS', () => {
    const codes = Object.values(served['paths']['/v1/products']['get'].responses as Json).flatMap(
      (response: Json) => response.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.code?.enum ?? [],
    );
    expect(codes).toEqual(expect.arrayContaining(['UNAUTHENTICATED', 'VALIDATION_FAILED']));
    expect(codes).not.toContain('CUSTOMER_ALREADY_EXISTS');
  });

  describe('the answer check of the e2e harness', () => {
    let validator: OpenApiAnswerValidator;
    let admin: string;

    beforeAll(async () => {
      validator = validatorFor(servedText);
      admin = await app.token({ roles: ['AdminAgent'] });
    });

    it('passes a documented answer', async () => {
      const answer = await request(app.app.getHttpServer()).get('/v1/products?country=DE').set('Authorization', admin).expect(200);
      expect(validator.check('get', '/v1/products?country=DE', answer)).toEqual([]);
    });

    it('refuses a member the document does not list', async () => {
      const answer = await request(app.app.getHttpServer()).get('/v1/products?country=DE').set('Authorization', admin).expect(200);
      const body = { ...answer.body, surprise: true };
      expect(validator.check('get', '/v1/products?country=DE', answerOf(answer, { body }))).toEqual([
        expect.stringContaining('must NOT have additional properties (surprise)'),
      ]);
    });

    it('refuses a status the operation does not document', async () => {
      const answer = await request(app.app.getHttpServer()).get('/v1/products?country=DE').set('Authorization', admin).expect(200);
      expect(validator.check('get', '/v1/products', answerOf(answer, { status: 410 }))).toEqual([expect.stringContaining('status 410 is not documented')]);
    });

    it('refuses a problem code the operation does not list for that status', async () => {
      const answer = await request(app.app.getHttpServer()).get('/v1/products?country=DE').expect(401);
      const body = { ...answer.body, code: 'CUSTOMER_ALREADY_EXISTS' };
      expect(validator.check('get', '/v1/products', answerOf(answer, { body }))).toEqual([expect.stringContaining('must be equal to one of the allowed values')]);
    });

    it('refuses a command answer without X-Log-Position, and an error answer that carries one', async () => {
      const created = await request(app.app.getHttpServer())
        .post('/v1/customers')
        .set('Authorization', admin)
        .send({ id: '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d', companyName: 'Fabrikam', domain: 'fabrikam.example', country: 'DE' })
        .expect(201);
      const { ['x-log-position']: _position, ...withoutPosition } = created.headers;
      expect(validator.check('post', '/v1/customers', answerOf(created, { headers: withoutPosition }))).toEqual([
        expect.stringContaining('header x-log-position is documented as required but absent'),
      ]);
      const refused = await request(app.app.getHttpServer()).get('/v1/products?country=DE').expect(401);
      expect(validator.check('get', '/v1/products', answerOf(refused, { headers: { ...refused.headers, 'x-log-position': '1.1' } }))).toEqual([
        expect.stringContaining('header x-log-position is not documented'),
      ]);
    });

    it('fails a request made through the harness when the answer departs from the document', async () => {
      const withoutPublisher = await E2eApp.start({
        adjustOpenApiDocument: (document) => {
          const product = (document as Json)['components']['schemas']['Product'];
          delete product.properties.publisher;
          product.required = product.required.filter((name: string) => name !== 'publisher');
          return document;
        },
      });
      try {
        const token = await withoutPublisher.token({ roles: ['AdminAgent'] });
        await expect(withoutPublisher.http().get('/v1/products?country=DE').set('Authorization', token).expect(200)).rejects.toThrow(
          /departs from the OpenAPI document[\s\S]*must NOT have additional properties \(publisher\)/,
        );
        await withoutPublisher.http().get('/v1/products?country=DE').expect(401);
      } finally {
        await withoutPublisher.stop();
      }
    });

    it('checks every answer of the harness: an undocumented status fails the request', async () => {
      const withoutUnauthenticated = await E2eApp.start({
        adjustOpenApiDocument: (document) => {
          delete (document as Json)['paths']['/v1/products']['get'].responses['401'];
          return document;
        },
      });
      try {
        await expect(withoutUnauthenticated.http().get('/v1/products?country=DE').expect(401)).rejects.toThrow(/status 401 is not documented/);
      } finally {
        await withoutUnauthenticated.stop();
      }
    });
  });
});

describe('every request example of the document', () => {
  let app: E2eApp;
  let document: Json;

  beforeAll(async () => {
    app = await E2eApp.start();
    document = (await request(app.app.getHttpServer()).get('/docs-json').expect(200)).body as Json;
  });
  afterAll(() => app.stop());

  function exampleOf(key: string): Json {
    const [method, path] = key.split(' ') as [string, string];
    return document['paths'][path][method.toLowerCase()].requestBody.content['application/json'].example as Json;
  }

  it('is accepted by the server', async () => {
    const admin = await app.token({ roles: ['AdminAgent'] });
    const billing = await app.token({ roles: ['BillingAdmin'] });
    const importer = await app.token({ roles: ['Importer'], kind: 'service' });
    const http = () => app.http();
    const accepted: string[] = [];
    const post = async (key: string, path: string, token: string, status: number, minPosition?: string) => {
      const [method] = key.split(' ') as [string];
      const call = method === 'PATCH' ? http().patch(path) : http().post(path);
      const answer = await call
        .set('Authorization', token)
        .set(minPosition ? { 'X-Min-Position': minPosition } : {})
        .send(exampleOf(key));
      // The body shows only when the status is not the expected one, so a refusal says why.
      expect({ key, status: answer.status, ...(answer.status === status ? {} : { refusal: answer.body }) }).toEqual({ key, status });
      accepted.push(key);
      return answer;
    };

    const customer = await post('POST /v1/customers', '/v1/customers', admin, 201);
    const customerId = customer.body.id as string;
    const order = await post('POST /v1/customers/{customerId}/orders', `/v1/customers/${customerId}/orders`, admin, 201);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    await post('PATCH /v1/customers/{customerId}/subscriptions/{subscriptionId}', `/v1/customers/${customerId}/subscriptions/${subscriptionId}`, admin, 200);

    const perpetual = await http()
      .post(`/v1/customers/${customerId}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 1, billingCycle: 'oneTime' }] })
      .expect(201);
    await post('PATCH /v1/customers/{customerId}/orders/{orderId}', `/v1/customers/${customerId}/orders/${perpetual.body.id}`, admin, 200);
    await post('POST /v1/import/purchases', '/v1/import/purchases', importer, 201);

    const submitted = await post('POST /v1/support-requests', '/v1/support-requests', admin, 201, order.headers['x-log-position']);
    await post('POST /v1/support-requests/{requestId}/approve', `/v1/support-requests/${submitted.body.id}/approve`, billing, 200);
    const another = await http()
      .post('/v1/support-requests')
      .set('Authorization', admin)
      .send({ ...exampleOf('POST /v1/support-requests'), title: 'A second request' })
      .expect(201);
    await post('POST /v1/support-requests/{requestId}/reject', `/v1/support-requests/${another.body.id}/reject`, billing, 200);

    const country = (document['paths']['/v1/products']['get'].parameters as Json[]).find((parameter) => parameter['name'] === 'country')!;
    await http().get(`/v1/products?country=${country['example'] ?? country['schema']['example']}`).set('Authorization', admin).expect(200);

    const withExamples = operationsOf(document)
      .filter(({ operation }) => operation['requestBody']?.content?.['application/json']?.example !== undefined)
      .map(({ key }) => key);
    expect(accepted.sort()).toEqual(withExamples.sort());
  });
});

describe('one resource, one shape', () => {
  let app: E2eApp;

  beforeAll(async () => {
    app = await E2eApp.start();
  });
  afterAll(() => app.stop());

  it('answers an order, a subscription and a customer alike in a command answer, a single GET and a list', async () => {
    const admin = await app.token({ roles: ['AdminAgent'] });
    const customerId = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
    const http = () => app.http();
    const registered = await http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id: customerId, companyName: 'Northwind', domain: 'northwind.example', country: 'fr' })
      .expect(201);
    const customer = await http().get(`/v1/customers/${customerId}`).set('Authorization', admin).set('X-Min-Position', registered.headers['x-log-position']).expect(200);
    expect(customer.body).toEqual(registered.body);

    const bought = await http()
      .post(`/v1/customers/${customerId}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId: 'windows-server-2022-standard-2core:P1Y', quantity: 1, billingCycle: 'annual' }] })
      .expect(201);
    const afterPurchase = { 'X-Min-Position': bought.headers['x-log-position'] };
    const order = await http().get(`/v1/customers/${customerId}/orders/${bought.body.id}`).set('Authorization', admin).set(afterPurchase).expect(200);
    const orders = await http().get(`/v1/customers/${customerId}/orders`).set('Authorization', admin).set(afterPurchase).expect(200);
    expect(orders.body.items).toEqual([order.body]);
    expect(Object.keys(bought.body).sort()).toEqual(Object.keys(order.body).sort());

    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    const toggled = await http()
      .patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`)
      .set('Authorization', admin)
      .send({ autoRenewEnabled: false })
      .expect(200);
    const afterToggle = { 'X-Min-Position': toggled.headers['x-log-position'] };
    const subscription = await http().get(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', admin).set(afterToggle).expect(200);
    const subscriptions = await http().get(`/v1/customers/${customerId}/subscriptions`).set('Authorization', admin).set(afterToggle).expect(200);
    expect(subscription.body).toEqual(toggled.body);
    expect(subscriptions.body.items).toEqual([subscription.body]);

    const cancelled = await http()
      .patch(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`)
      .set('Authorization', admin)
      .send({ status: 'cancelled' })
      .expect(200);
    const afterCancel = { 'X-Min-Position': cancelled.headers['x-log-position'] };
    const cancelledNow = await http().get(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', admin).set(afterCancel).expect(200);
    expect(cancelledNow.body).toEqual(cancelled.body);
  });
});
