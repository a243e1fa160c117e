import { SignJWT } from 'jose';
import { E2eApp, TEST_JWT_SECRET } from '../support/e2e-harness';
import { expectProblem, registerCustomer } from './support/e2e-support';

const HOUR = 3600;

/** A partner token with the given times, signed with the service's secret (so only the times can be wrong). */
function partnerToken(roles: string[], times: { iat?: number; exp?: number }): Promise<string> {
  const jwt = new SignJWT({ sub: 'user-1', tid: 'partner-1', kind: 'partner', roles }).setProtectedHeader({ alg: 'HS256' });
  if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
  if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
  return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

describe('bearer tokens: issue time, lifetime and roles', () => {
  let app: E2eApp;
  let customerId: string;
  let registeredAt: string;
  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    app = await E2eApp.start({ env: { AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(8 * HOUR) } });
    ({ id: customerId, position: registeredAt } = await registerCustomer(app));
  });
  afterAll(() => app.stop());

  const read = (token: string) =>
    app.http().get(`/v1/customers/${customerId}`).set('Authorization', `Bearer ${token}`).set('X-Min-Position', registeredAt);

  it('reads with a token inside every limit', async () => {
    const now = nowSeconds();
    expect((await read(await partnerToken(['AdminAgent'], { iat: now, exp: now + HOUR }))).status).toBe(200);
  });

  it('refuses a token issued in the future with 401 naming the reason', async () => {
    const now = nowSeconds();
    const response = await read(await partnerToken(['AdminAgent'], { iat: now + 10 * 60, exp: now + HOUR }));
    expectProblem(response, 401, 'UNAUTHENTICATED');
    expect(response.body.reason).toBe('issued_in_future');
    expect(response.body.detail).toMatch(/iat/);
  });

  it('refuses a token living longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS', async () => {
    const now = nowSeconds();
    const response = await read(await partnerToken(['AdminAgent'], { iat: now, exp: now + 9 * HOUR }));
    expectProblem(response, 401, 'UNAUTHENTICATED');
    expect(response.body.reason).toBe('lifetime_too_long');
    expect(response.body.detail).toContain(String(8 * HOUR));
  });

  it('refuses a far exp without iat', async () => {
    const now = nowSeconds();
    const response = await read(await partnerToken(['AdminAgent'], { exp: now + 365 * 24 * HOUR }));
    expectProblem(response, 401, 'UNAUTHENTICATED');
    expect(response.body.reason).toBe('lifetime_too_long');
  });

  it('lets a partner token with no known role read nothing: 403 on its own customer and on the catalogue', async () => {
    const now = nowSeconds();
    const roleless = await partnerToken(['SalesAgent'], { iat: now, exp: now + HOUR });
    expectProblem(await read(roleless), 403, 'FORBIDDEN');
    expectProblem(await app.http().get('/v1/products?country=DE').set('Authorization', `Bearer ${roleless}`), 403, 'FORBIDDEN');
  });
});
