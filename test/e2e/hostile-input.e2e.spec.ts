import type { Response } from 'supertest';
import { E2eApp } from '../support/e2e-harness';
import { buy, eventCount, expectProblem, get, invalidFields, newTenantId, registerCustomer, SKU } from './support/e2e-support';

/** Answers the HTTP layer makes itself, unprintable text, prototype members and one domain per tenant. */
describe('hostile input at the HTTP boundary', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  async function refusedWithoutAppending(send: () => Promise<Response>, status: number, code: string): Promise<Response> {
    const before = await eventCount(app);
    const response = await send();
    expectProblem(response, status, code);
    expect(await eventCount(app)).toBe(before);
    return response;
  }

  describe('answers of the HTTP layer', () => {
    it('answers an unknown route 404 NOT_FOUND problem+json', async () => {
      expectProblem(await app.http().get('/v1/nowhere').set('Authorization', admin), 404, 'NOT_FOUND');
    });

    it('answers a known path with a method it does not serve 405 with Allow', async () => {
      const response = await app.http().delete('/v1/customers').set('Authorization', admin);
      expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers['allow']).toBe('POST');
      const onOne = await app.http().put(`/v1/customers/${newTenantId()}`).set('Authorization', admin).send({});
      expectProblem(onOne, 405, 'METHOD_NOT_ALLOWED');
      expect(onOne.headers['allow']).toBe('GET, HEAD');
    });

    it('answers HEAD like GET without a body, and OPTIONS 405 with Allow', async () => {
      const customer = await registerCustomer(app);
      const head = await app.http().head(`/v1/customers/${customer.id}`).set('Authorization', admin).set('X-Min-Position', customer.position);
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^application\/json/);
      expect(head.text ?? '').toBe('');
      const options = await app.http().options(`/v1/customers/${customer.id}`).set('Authorization', admin);
      expectProblem(options, 405, 'METHOD_NOT_ALLOWED');
      expect(options.headers['allow']).toBe('GET, HEAD');
    });

    it('answers a path that is not percent-encoded UTF-8 400, not 500', async () => {
      expectProblem(await app.http().get('/v1/customers/%ED%A0%80').set('Authorization', admin), 400, 'VALIDATION_FAILED');
    });
  });

  describe('unprintable text in names and references', () => {
    it.each([
      ['a right-to-left override (Cf)', 'Contoso \u202eHbmG'],
      ['a zero-width space (Cf)', 'Con\u200btoso'],
      ['a C1 control (Cc)', 'Contoso\u0085'],
      ['an unpaired surrogate', 'Contoso \ud800'],
      ['a non-character', 'Contoso \ufffe'],
      ['a supplementary non-character', 'Contoso \u{10FFFF}'],
    ])('refuses a company name with %s, naming the field', async (_label, companyName) => {
      const response = await refusedWithoutAppending(
        () => app.http().post('/v1/customers').set('Authorization', admin).send({ id: newTenantId(), companyName, domain: `c${Date.now()}.example.com`, country: 'DE' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toEqual(['companyName']);
    });

    it('accepts letters of any script and emoji without format characters', async () => {
      const customer = await registerCustomer(app, { companyName: 'Müller & Söhne 株式会社 😀' });
      expect(customer.companyName).toBe('Müller & Söhne 株式会社 😀');
    });

    it('refuses a friendly name with a format character, naming the line', async () => {
      const customer = await registerCustomer(app);
      const response = await refusedWithoutAppending(
        () =>
          app
            .http()
            .post(`/v1/customers/${customer.id}/orders`)
            .set('Authorization', admin)
            .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual', friendlyName: 'prod\u2066db' }] }),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toEqual(['lineItems[0].friendlyName']);
    });

    it('refuses a customer reference with a format character, naming the path parameter', async () => {
      const response = await get(app, `/v1/customers/${encodeURIComponent('contoso\u200d.example.com')}/orders`, admin);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([expect.objectContaining({ in: 'path', field: 'customerId' })]);
    });
  });

  describe('prototype members', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('refuses a top-level %s like any unknown member', async (member) => {
      const body = `{"id":"${newTenantId()}","companyName":"Proto","domain":"proto-${Date.now()}.example.com","country":"DE","${member}":{"isAdmin":true}}`;
      const response = await refusedWithoutAppending(
        () => app.http().post('/v1/customers').set('Authorization', admin).set('Content-Type', 'application/json').send(body),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toEqual([member]);
    });

    it('refuses __proto__ inside a line item, naming its path', async () => {
      const customer = await registerCustomer(app);
      const body = `{"lineItems":[{"skuId":"${SKU.datacenter1y}","quantity":1,"billingCycle":"annual","__proto__":{"quantity":5000}}]}`;
      const response = await refusedWithoutAppending(
        () => app.http().post(`/v1/customers/${customer.id}/orders`).set('Authorization', admin).set('Content-Type', 'application/json').send(body),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalidFields(response)).toEqual(['lineItems[0].__proto__']);
    });
  });

  describe('names and domains after normalisation', () => {
    it('refuses a primary domain another partner already registered, in any case, with 409 DOMAIN_ALREADY_REGISTERED', async () => {
      const first = await registerCustomer(app, { domain: `shared-${Date.now()}.example.com` });
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      const response = await refusedWithoutAppending(
        () =>
          app
            .http()
            .post('/v1/customers')
            .set('Authorization', otherPartner)
            .send({ id: newTenantId(), companyName: 'Another', domain: first.domain.toUpperCase(), country: 'DE' }),
        409,
        'DOMAIN_ALREADY_REGISTERED',
      );
      expect(response.body.domain).toBe(first.domain.toLowerCase());
    });

    it('refuses the same domain for a second customer of the same partner', async () => {
      const first = await registerCustomer(app, { domain: `twice-${Date.now()}.example.com` });
      await refusedWithoutAppending(
        () => app.http().post('/v1/customers').set('Authorization', admin).send({ id: newTenantId(), companyName: 'Twice', domain: first.domain, country: 'DE' }),
        409,
        'DOMAIN_ALREADY_REGISTERED',
      );
    });

    it('lets exactly one of two registrations racing for one domain win', async () => {
      const domain = `race-${Date.now()}.example.com`;
      const partnerTwo = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      const answers = await Promise.all(
        [admin, partnerTwo, admin, partnerTwo].map((token) =>
          app.http().post('/v1/customers').set('Authorization', token).send({ id: newTenantId(), companyName: 'Race', domain, country: 'DE' }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409]);
      const registered = (await app.events()).filter((event) => event.type === 'CustomerRegistered' && event.data['domain'] === domain);
      expect(registered).toHaveLength(1);
    });

    it('finds a customer by its company name typed in another case or another Unicode form', async () => {
      const suffix = newTenantId().slice(0, 8);
      const customer = await registerCustomer(app, { companyName: `Café Straße ${suffix}` });
      const typedOtherwise = `CAFE\u0301 STRASSE ${suffix.toUpperCase()}`;
      const response = await get(app, `/v1/customers/${encodeURIComponent(typedOtherwise)}`, admin, customer.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('finds ambiguity after normalisation: two names that differ only in case are one name', async () => {
      const suffix = newTenantId().slice(0, 8);
      await registerCustomer(app, { companyName: `Fabrikam ${suffix}` });
      const second = await registerCustomer(app, { companyName: `FABRIKAM ${suffix}` });
      const order = await app
        .http()
        .post(`/v1/customers/${encodeURIComponent(`fabrikam ${suffix}`)}/orders`)
        .set('Authorization', admin)
        .set('X-Min-Position', second.position)
        .send({ lineItems: [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }] });
      expectProblem(order, 409, 'AMBIGUOUS_CUSTOMER');
      await buy(app, second.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    });
  });
});
