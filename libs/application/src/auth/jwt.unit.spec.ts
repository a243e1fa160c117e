import { SignJWT, UnsecuredJWT } from 'jose';
import { InvalidTokenError, signToken, TokenClaims, verifyToken } from './jwt';

const SECRET = 'a-test-secret-that-is-long-enough-000000';
const CLAIMS: TokenClaims = { sub: 'u-1', tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'], name: 'Ada' };

async function refusal(promise: Promise<unknown>): Promise<InvalidTokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

function rawToken(payload: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

describe('signToken / verifyToken', () => {
  it('round-trips the claims into a Principal', async () => {
    const token = await signToken(CLAIMS, SECRET, { expiresIn: '8h' });
    await expect(verifyToken(token, SECRET)).resolves.toEqual({
      userId: 'u-1',
      tenantId: 'partner-1',
      kind: 'partner',
      roles: ['AdminAgent'],
      name: 'Ada',
    });
  });

  it('omits name when the token has none', async () => {
    const token = await signToken({ ...CLAIMS, name: undefined }, SECRET, { expiresIn: 60 });
    expect(await verifyToken(token, SECRET)).not.toHaveProperty('name');
  });

  it('names a bad expiry instead of signing', async () => {
    await expect(signToken(CLAIMS, SECRET, { expiresIn: 'soon' })).rejects.toThrow(/"soon" is not a time span/);
  });

  it('refuses an expired token', async () => {
    const token = await signToken(CLAIMS, SECRET, { expiresIn: '-2 minutes' });
    expect((await refusal(verifyToken(token, SECRET))).reason).toBe('expired');
  });

  it('refuses a token signed with another secret, saying so', async () => {
    const token = await signToken(CLAIMS, 'another-secret-that-is-long-enough-11111', { expiresIn: '1h' });
    const error = await refusal(verifyToken(token, SECRET));
    expect(error.reason).toBe('bad_signature');
    expect(error.message).toMatch(/signed with another secret/);
  });

  it('refuses alg none', async () => {
    const token = new UnsecuredJWT({ tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'] }).setSubject('u-1').encode();
    expect((await refusal(verifyToken(token, SECRET))).reason).toBe('malformed');
  });

  it('refuses garbage', async () => {
    expect((await refusal(verifyToken('not.a.jwt', SECRET))).reason).toBe('malformed');
  });

  it.each([
    ['missing tid', { sub: 'u', kind: 'partner', roles: [] }],
    ['unknown kind', { sub: 'u', tid: 't', kind: 'admin', roles: [] }],
    ['roles not an array', { sub: 'u', tid: 't', kind: 'partner', roles: 'AdminAgent' }],
    ['empty sub', { sub: '', tid: 't', kind: 'partner', roles: [] }],
  ])('refuses bad claims: %s', async (_label, payload) => {
    expect((await refusal(verifyToken(await rawToken(payload), SECRET))).reason).toBe('bad_claims');
  });

  it('drops role strings it does not know and accepts a token without exp', async () => {
    const token = await new SignJWT({ sub: 'svc', tid: 'partner-1', kind: 'service', roles: ['SalesAgent', 'Importer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    expect((await verifyToken(token, SECRET)).roles).toEqual(['Importer']);
  });
});

describe('verifyToken: issue time and lifetime', () => {
  const HOUR = 3600;
  const DAY = 24 * HOUR;
  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  function timedToken(times: { iat?: number; exp?: number }): Promise<string> {
    const jwt = new SignJWT({ sub: 'u-1', tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'] }).setProtectedHeader({ alg: 'HS256' });
    if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
    if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
    return jwt.sign(new TextEncoder().encode(SECRET));
  }

  it('refuses a token issued a minute from now, beyond the 30 s tolerance', async () => {
    const now = nowSeconds();
    const error = await refusal(verifyToken(await timedToken({ iat: now + 60, exp: now + HOUR }), SECRET));
    expect(error.reason).toBe('issued_in_future');
  });

  it('accepts a token issued 10 s from now (clock skew within the tolerance)', async () => {
    const now = nowSeconds();
    await expect(verifyToken(await timedToken({ iat: now + 10, exp: now + HOUR }), SECRET)).resolves.toMatchObject({ userId: 'u-1' });
  });

  it('refuses exp − iat above the default maximum of 24 h, and accepts exactly 24 h', async () => {
    const now = nowSeconds();
    expect((await refusal(verifyToken(await timedToken({ iat: now, exp: now + 30 * DAY }), SECRET))).reason).toBe('lifetime_too_long');
    await expect(verifyToken(await timedToken({ iat: now, exp: now + DAY }), SECRET)).resolves.toMatchObject({ userId: 'u-1' });
  });

  it('measures a token without iat from now', async () => {
    const now = nowSeconds();
    expect((await refusal(verifyToken(await timedToken({ exp: now + 2 * DAY }), SECRET))).reason).toBe('lifetime_too_long');
    await expect(verifyToken(await timedToken({ exp: now + HOUR }), SECRET)).resolves.toMatchObject({ userId: 'u-1' });
  });

  it('ends a token without exp once it is older than the maximum', async () => {
    const now = nowSeconds();
    expect((await refusal(verifyToken(await timedToken({ iat: now - 2 * DAY }), SECRET))).reason).toBe('expired');
    await expect(verifyToken(await timedToken({ iat: now - HOUR }), SECRET)).resolves.toMatchObject({ userId: 'u-1' });
  });

  it('takes the maximum from the policy', async () => {
    const now = nowSeconds();
    const token = await timedToken({ iat: now, exp: now + 2 * HOUR });
    expect((await refusal(verifyToken(token, SECRET, { maxLifetimeSeconds: HOUR }))).reason).toBe('lifetime_too_long');
    await expect(verifyToken(token, SECRET, { maxLifetimeSeconds: 3 * HOUR })).resolves.toMatchObject({ userId: 'u-1' });
  });
});

describe('verifyToken: a token verified before', () => {
  const OTHER_SECRET = 'another-secret-that-is-long-enough-22222';

  afterEach(() => jest.useRealTimers());

  it('is refused as expired once its expiry has passed, like any other', async () => {
    const token = await signToken(CLAIMS, SECRET, { expiresIn: 90 });
    await expect(verifyToken(token, SECRET)).resolves.toMatchObject({ userId: 'u-1' });

    // Only Date moves: WebCrypto and promises keep running on real time.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    jest.setSystemTime(Date.now() + 200_000);

    expect((await refusal(verifyToken(token, SECRET))).reason).toBe('expired');
  });

  it('is refused under another secret', async () => {
    const token = await signToken(CLAIMS, SECRET, { expiresIn: '1h' });
    await expect(verifyToken(token, SECRET)).resolves.toMatchObject({ userId: 'u-1' });

    expect((await refusal(verifyToken(token, OTHER_SECRET))).reason).toBe('bad_signature');
  });

  it('still answers to the lifetime policy of each caller', async () => {
    const token = await signToken(CLAIMS, SECRET, { expiresIn: '2h' });
    await expect(verifyToken(token, SECRET)).resolves.toMatchObject({ userId: 'u-1' });

    expect((await refusal(verifyToken(token, SECRET, { maxLifetimeSeconds: 3600 }))).reason).toBe('lifetime_too_long');
  });
});
