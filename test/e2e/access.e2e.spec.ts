import { signToken } from '@csp/application/auth/jwt';
import type { PrincipalKind, Role } from '@csp/application/auth/principal';
import { E2eApp, TEST_JWT_SECRET } from '../support/e2e-harness';
import type request from 'supertest';
import { buy, eventCount, expectProblem, logPosition, newTenantId, registerCustomer, SKU } from './support/e2e-support';

/**
 * Who may do what (SPEC "Actors and roles", API.md tables): every endpoint of the foundation against
 * missing and bad tokens, every partner role, customer users of the tenant and of another one, and
 * another partner. Refusals append nothing.
 */
type Method = 'get' | 'post' | 'patch';
interface Endpoint {
  name: string;
  method: Method;
  path: () => string;
  body?: () => object;
  /** Roles that may call it as a partner user; undefined: any partner user. */
  roles?: Role[];
  /** Scoped to a customer: another partner gets 404, a foreign customer user 403. */
  customerScoped: boolean;
  /** Customer users of the tenant (GlobalAdmin) may call it. */
  customerMay: boolean;
}

const PARTNER_ROLES: Role[] = ['AdminAgent', 'GlobalAdmin', 'AccountAdmin', 'ReferralAdmin', 'MarketingContentAdmin', 'BillingAdmin'];

describe('access: authentication, roles and tenants on every endpoint', () => {
  let app: E2eApp;
  let customerId: string;
  let orderId: string;
  let subscriptionId: string;
  let position: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    customerId = (await registerCustomer(app)).id;
    const order = await buy(app, customerId, [
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
    ]);
    orderId = order.body.id;
    subscriptionId = order.body.lineItems[1].subscriptionId;
    position = logPosition(order);
  });
  afterAll(() => app.stop());

  const orderLine = { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' };
  const endpoints: Endpoint[] = [
    {
      name: 'POST /v1/customers',
      method: 'post',
      path: () => '/v1/customers',
      body: () => {
        const id = newTenantId();
        return { id, companyName: 'Access Test', domain: `a${id.slice(0, 8)}.example`, country: 'DE' };
      },
      roles: ['AdminAgent', 'GlobalAdmin'],
      customerScoped: false,
      customerMay: false,
    },
    { name: 'GET /v1/customers/{id}', method: 'get', path: () => `/v1/customers/${customerId}`, customerScoped: true, customerMay: true },
    {
      name: 'POST orders',
      method: 'post',
      path: () => `/v1/customers/${customerId}/orders`,
      body: () => ({ lineItems: [orderLine] }),
      roles: ['AdminAgent', 'GlobalAdmin'],
      customerScoped: true,
      customerMay: false,
    },
    { name: 'GET orders', method: 'get', path: () => `/v1/customers/${customerId}/orders`, customerScoped: true, customerMay: true },
    { name: 'GET one order', method: 'get', path: () => `/v1/customers/${customerId}/orders/${orderId}`, customerScoped: true, customerMay: true },
    {
      name: 'PATCH order (cancel)',
      method: 'patch',
      path: () => `/v1/customers/${customerId}/orders/${orderId}`,
      body: () => ({ status: 'cancelled' }),
      roles: ['AdminAgent'],
      customerScoped: true,
      customerMay: false,
    },
    { name: 'GET subscriptions', method: 'get', path: () => `/v1/customers/${customerId}/subscriptions`, customerScoped: true, customerMay: true },
    {
      name: 'GET one subscription',
      method: 'get',
      path: () => `/v1/customers/${customerId}/subscriptions/${subscriptionId}`,
      customerScoped: true,
      customerMay: true,
    },
    {
      name: 'PATCH subscription autoRenewEnabled',
      method: 'patch',
      path: () => `/v1/customers/${customerId}/subscriptions/${subscriptionId}`,
      body: () => ({ autoRenewEnabled: false }),
      roles: ['AdminAgent', 'GlobalAdmin'],
      customerScoped: true,
      customerMay: false,
    },
    {
      name: 'PATCH subscription status cancelled',
      method: 'patch',
      path: () => `/v1/customers/${customerId}/subscriptions/${subscriptionId}`,
      body: () => ({ status: 'cancelled' }),
      roles: ['AdminAgent'],
      customerScoped: true,
      customerMay: false,
    },
  ];

  async function call(endpoint: Endpoint, token?: string): Promise<request.Response> {
    let test = app.http()[endpoint.method](endpoint.path());
    if (token) test = test.set('Authorization', token);
    if (endpoint.method === 'get') test = test.set('X-Min-Position', position);
    return endpoint.body ? test.send(endpoint.body()) : test;
  }

  /** A refused call: the expected problem, and the log unchanged. */
  async function expectRefused(endpoint: Endpoint, token: string | undefined, status: number, code: string): Promise<void> {
    const before = await eventCount(app);
    expectProblem(await call(endpoint, token), status, code);
    expect(await eventCount(app)).toBe(before);
  }

  const names = endpoints.map((endpoint) => [endpoint.name, endpoint] as const);

  describe('authentication', () => {
    it.each(names)('%s without a token is 401 with WWW-Authenticate: Bearer', async (_name, endpoint) => {
      const response = await call(endpoint);
      expectProblem(response, 401, 'UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses an expired token, a token signed with another secret, a non-Bearer scheme and bad claims with 401', async () => {
      const claims = { sub: 'u', tid: 'partner-1', kind: 'partner' as PrincipalKind, roles: ['AdminAgent'] as Role[] };
      const expired = await signToken(claims, TEST_JWT_SECRET, { expiresIn: -120 });
      const foreign = await signToken(claims, 'another-secret-that-is-long-enough-for-hs256-000000', { expiresIn: '1h' });
      const badKind = await signToken({ ...claims, kind: 'robot' as PrincipalKind }, TEST_JWT_SECRET, { expiresIn: '1h' });
      const noTenant = await signToken({ ...claims, tid: '' }, TEST_JWT_SECRET, { expiresIn: '1h' });
      const target = endpoints[1]!;
      for (const header of [`Bearer ${expired}`, `Bearer ${foreign}`, `Bearer ${badKind}`, `Bearer ${noTenant}`, `Basic ${expired}`, 'Bearer not.a.jwt']) {
        expectProblem(await call(target, header), 401, 'UNAUTHENTICATED');
      }
    });

    it('ignores role names it does not know (they grant nothing)', async () => {
      const token = await app.token({ roles: ['SuperUser' as Role] });
      await expectRefused(endpoints[2]!, token, 403, 'FORBIDDEN');
    });
  });

  describe('partner roles', () => {
    const refusals = endpoints.flatMap((endpoint) =>
      PARTNER_ROLES.filter((role) => endpoint.roles && !endpoint.roles.includes(role)).map((role) => [endpoint.name, role, endpoint] as const),
    );
    it.each(refusals)('%s refuses a partner %s with 403 and appends nothing', async (_name, role, endpoint) => {
      await expectRefused(endpoint, await app.token({ roles: [role] }), 403, 'FORBIDDEN');
    });

    const reads = endpoints.filter((endpoint) => endpoint.method === 'get');
    it.each(reads.flatMap((endpoint) => PARTNER_ROLES.map((role) => [endpoint.name, role, endpoint] as const)))(
      '%s answers a partner %s',
      async (_name, role, endpoint) => {
        expect((await call(endpoint, await app.token({ roles: [role] }))).status).toBe(200);
      },
    );

    it.each(reads.map((endpoint) => [endpoint.name, endpoint] as const))('%s answers a service of the partner', async (_name, endpoint) => {
      expect((await call(endpoint, await app.token({ roles: ['AdminAgent'], kind: 'service' }))).status).toBe(200);
    });
  });

  describe('tenants', () => {
    const scoped = endpoints.filter((endpoint) => endpoint.customerScoped).map((endpoint) => [endpoint.name, endpoint] as const);

    it.each(scoped)("%s hides the customer from another partner's AdminAgent+GlobalAdmin: 404 UNKNOWN_CUSTOMER", async (_name, endpoint) => {
      await expectRefused(endpoint, await app.token({ roles: ['AdminAgent', 'GlobalAdmin'], tenant: 'partner-2' }), 404, 'UNKNOWN_CUSTOMER');
    });

    it.each(scoped)('%s refuses a GlobalAdmin of another customer tenant with 403', async (_name, endpoint) => {
      const stranger = await app.token({ roles: ['GlobalAdmin', 'AdminAgent'], kind: 'customer', tenant: newTenantId() });
      await expectRefused(endpoint, stranger, 403, 'FORBIDDEN');
    });

    it.each(scoped)("%s: the customer's own users", async (_name, endpoint) => {
      const ownGlobalAdmin = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customerId });
      const ownOther = await app.token({ roles: ['BillingAdmin', 'AccountAdmin'], kind: 'customer', tenant: customerId });
      await expectRefused(endpoint, ownOther, 403, 'FORBIDDEN');
      if (endpoint.customerMay) expect((await call(endpoint, ownGlobalAdmin)).status).toBe(200);
      else await expectRefused(endpoint, ownGlobalAdmin, 403, 'FORBIDDEN');
    });

    it("a customer user may name its own tenant by domain, and no other customer's", async () => {
      const customer = await registerCustomer(app);
      const other = await registerCustomer(app);
      const own = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id });
      const response = await app.http().get(`/v1/customers/${customer.domain}`).set('Authorization', own).set('X-Min-Position', other.position);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(customer.id);
      const foreign = await app.http().get(`/v1/customers/${other.domain}`).set('Authorization', own).set('X-Min-Position', other.position);
      expectProblem(foreign, 403, 'FORBIDDEN');
    });
  });

  describe('backfill import is for Importer services only', () => {
    const importBody = () => ({
      customerId,
      purchasedAt: '2025-01-15T00:00:00.000Z',
      lineItems: [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }],
    });
    it.each([
      ['a partner Importer', { roles: ['Importer'] as Role[] }],
      ['a partner AdminAgent', { roles: ['AdminAgent', 'GlobalAdmin'] as Role[] }],
      ['a service AdminAgent', { roles: ['AdminAgent'] as Role[], kind: 'service' as PrincipalKind }],
      ['a customer Importer', { roles: ['Importer'] as Role[], kind: 'customer' as PrincipalKind, ownTenant: true }],
    ])('refuses %s with 403', async (_label, { ownTenant, ...spec }: { roles: Role[]; kind?: PrincipalKind; ownTenant?: boolean }) => {
      const token = await app.token({ ...spec, ...(ownTenant ? { tenant: customerId } : {}) });
      const before = await eventCount(app);
      expectProblem(await app.http().post('/v1/import/purchases').set('Authorization', token).send(importBody()), 403, 'FORBIDDEN');
      expect(await eventCount(app)).toBe(before);
    });

    it('refuses an Importer service of another partner with 404 UNKNOWN_CUSTOMER', async () => {
      const token = await app.token({ roles: ['Importer'], kind: 'service', tenant: 'partner-2' });
      expectProblem(await app.http().post('/v1/import/purchases').set('Authorization', token).send(importBody()), 404, 'UNKNOWN_CUSTOMER');
    });
  });
});
