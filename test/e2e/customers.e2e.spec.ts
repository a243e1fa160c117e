import { E2eApp } from '../support/e2e-harness';
import { expectProblem, get, invalidFields, logPosition, newTenantId, postRaw, registerCustomer } from './support/e2e-support';

describe('customers: POST /v1/customers and GET /v1/customers/{id}', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const post = (body: object, token = admin) => app.http().post('/v1/customers').set('Authorization', token).send(body);
  const valid = (overrides: Record<string, unknown> = {}) => {
    const id = newTenantId();
    return { id, companyName: 'Fabrikam GmbH', domain: `f${id.slice(0, 8)}.onmicrosoft.com`, country: 'DE', ...overrides };
  };

  describe('register', () => {
    it('answers 201 with the customer, owned by the caller partner, and a log position', async () => {
      const body = valid({ companyName: 'Contoso AG' });
      const response = await post(body);
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({
        id: body.id,
        companyName: 'Contoso AG',
        domain: body.domain,
        country: 'DE',
        partnerId: 'partner-1',
      });
      logPosition(response);
    });

    it('lets a partner GlobalAdmin register', async () => {
      const globalAdmin = await app.token({ roles: ['GlobalAdmin'] });
      expect((await post(valid(), globalAdmin)).status).toBe(201);
    });

    it.each([['BillingAdmin'], ['AccountAdmin'], ['ReferralAdmin'], ['MarketingContentAdmin']] as const)(
      'refuses a partner %s with 403',
      async (role) => {
        const token = await app.token({ roles: [role] });
        const before = (await app.events()).length;
        expectProblem(await post(valid(), token), 403, 'FORBIDDEN');
        expect((await app.events()).length).toBe(before);
      },
    );

    it('refuses a customer user, even its own tenant GlobalAdmin, with 403', async () => {
      const body = valid();
      const customerUser = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: body.id });
      expectProblem(await post(body, customerUser), 403, 'FORBIDDEN');
    });

    it('answers 401 without a token', async () => {
      expectProblem(await app.http().post('/v1/customers').send(valid()), 401, 'UNAUTHENTICATED');
    });

    it('answers 409 CUSTOMER_ALREADY_EXISTS for a tenant GUID registered before, and appends nothing', async () => {
      const body = valid();
      expect((await post(body)).status).toBe(201);
      const before = (await app.events()).length;
      expectProblem(await post({ ...body, companyName: 'Another name' }), 409, 'CUSTOMER_ALREADY_EXISTS');
      expect((await app.events()).length).toBe(before);
    });

    it('answers 409 when another partner registers a tenant that already has a partner', async () => {
      const body = valid();
      expect((await post(body)).status).toBe(201);
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      expectProblem(await post(body, otherPartner), 409, 'CUSTOMER_ALREADY_EXISTS');
    });

    it('accepts Kosovo as XK', async () => {
      const response = await post(valid({ country: 'XK' }));
      expect(response.status).toBe(201);
      expect(response.body.country).toBe('XK');
    });

    it('takes a country code in any case and answers it upper case', async () => {
      const response = await post(valid({ country: 'de' }));
      expect(response.status).toBe(201);
      expect(response.body.country).toBe('DE');
    });

    it.each([
      ['UK', 'not an ISO 3166-1 code (the United Kingdom is GB)'],
      ['DEU', 'alpha-3'],
      ['', 'empty'],
      ['ZZ', 'unassigned'],
    ])('refuses country %j (%s) with 400 VALIDATION_FAILED naming the field', async (country) => {
      const response = await post(valid({ country }));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toEqual(['country']);
    });

    it('refuses a country of the wrong type', async () => {
      const response = await post(valid({ country: 49 }));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain('country');
    });

    it('refuses an unknown field with 400 naming it', async () => {
      const response = await post(valid({ vatNumber: 'DE123' }));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toEqual(['vatNumber']);
    });

    it.each(['id', 'companyName', 'domain', 'country'])('refuses a body without %s with 400 naming it', async (field) => {
      const body: Record<string, unknown> = valid();
      delete body[field];
      const response = await post(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toEqual([field]);
    });

    it('refuses an id that is not a tenant GUID and a domain that is not a DNS name', async () => {
      const response = await post(valid({ id: 'contoso', domain: 'not a domain' }));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response).sort()).toEqual(['domain', 'id']);
    });

    it('refuses malformed JSON with 400 VALIDATION_FAILED', async () => {
      const response = await postRaw(app, '/v1/customers', admin, 'application/json', '{"id": ');
      expectProblem(response, 400, 'VALIDATION_FAILED');
    });
  });

  describe('read', () => {
    it('shows the customer to its partner at the registration position', async () => {
      const customer = await registerCustomer(app, { companyName: 'Read Me Ltd' });
      const response = await get(app, `/v1/customers/${customer.id}`, admin, customer.position);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: customer.id,
        companyName: 'Read Me Ltd',
        domain: customer.domain,
        country: 'DE',
        partnerId: 'partner-1',
      });
    });

    it('shows the customer to any role of the owning partner', async () => {
      const customer = await registerCustomer(app);
      const billing = await app.token({ roles: ['BillingAdmin'] });
      expect((await get(app, `/v1/customers/${customer.id}`, billing, customer.position)).status).toBe(200);
    });

    it('finds the customer by its primary domain, in any letter case, for its partner', async () => {
      const customer = await registerCustomer(app);
      const response = await get(app, `/v1/customers/${customer.domain.toUpperCase()}`, admin, customer.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('finds the customer by its company name for its partner', async () => {
      const name = `Northwind ${newTenantId().slice(0, 8)}`;
      const customer = await registerCustomer(app, { companyName: name });
      const response = await get(app, `/v1/customers/${encodeURIComponent(name)}`, admin, customer.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('finds the customer by its tenant GUID written in upper case', async () => {
      const customer = await registerCustomer(app);
      const response = await get(app, `/v1/customers/${customer.id.toUpperCase()}`, admin, customer.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('hides the customer from another partner: 404 UNKNOWN_CUSTOMER, by GUID and by domain', async () => {
      const customer = await registerCustomer(app);
      const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      expectProblem(await get(app, `/v1/customers/${customer.id}`, otherPartner, customer.position), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await get(app, `/v1/customers/${customer.domain}`, otherPartner, customer.position), 404, 'UNKNOWN_CUSTOMER');
    });

    it('answers 404 UNKNOWN_CUSTOMER for a tenant GUID nobody registered', async () => {
      expectProblem(await get(app, `/v1/customers/${newTenantId()}`, admin), 404, 'UNKNOWN_CUSTOMER');
    });

    it("shows the customer to its own tenant's GlobalAdmin", async () => {
      const customer = await registerCustomer(app);
      const own = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id });
      const response = await get(app, `/v1/customers/${customer.id}`, own, customer.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('refuses a customer user of another tenant with 403', async () => {
      const customer = await registerCustomer(app);
      const stranger = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: newTenantId() });
      expectProblem(await get(app, `/v1/customers/${customer.id}`, stranger, customer.position), 403, 'FORBIDDEN');
    });

    it('refuses a customer user of the same tenant without GlobalAdmin with 403', async () => {
      const customer = await registerCustomer(app);
      const user = await app.token({ roles: ['BillingAdmin'], kind: 'customer', tenant: customer.id });
      expectProblem(await get(app, `/v1/customers/${customer.id}`, user, customer.position), 403, 'FORBIDDEN');
      const noRoles = await app.token({ roles: [], kind: 'customer', tenant: customer.id });
      expectProblem(await get(app, `/v1/customers/${customer.id}`, noRoles, customer.position), 403, 'FORBIDDEN');
    });

    it('answers 401 without a token and with a token signed by another secret', async () => {
      const customer = await registerCustomer(app);
      expectProblem(await app.http().get(`/v1/customers/${customer.id}`), 401, 'UNAUTHENTICATED');
      const forged = admin.slice(0, -4) + (admin.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      expectProblem(await get(app, `/v1/customers/${customer.id}`, forged), 401, 'UNAUTHENTICATED');
    });
  });
});
