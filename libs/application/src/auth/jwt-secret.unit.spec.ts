import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_SECRET_FILE, JwtSecretError, resolveJwtSecret } from './jwt-secret';

const LONG = 'x'.repeat(32);

describe('resolveJwtSecret', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'jwt-secret-')), 'nested', 'data');
  });
  afterEach(() => rmSync(join(dataDir, '..', '..'), { recursive: true, force: true }));

  it('uses AUTH_JWT_SECRET, even in production', () => {
    expect(resolveJwtSecret({ env: { AUTH_JWT_SECRET: LONG, NODE_ENV: 'production' }, dataDir })).toEqual({
      secret: LONG,
      source: 'env',
    });
  });

  it('refuses a configured secret shorter than 32 bytes', () => {
    expect(() => resolveJwtSecret({ env: { AUTH_JWT_SECRET: 'short' }, dataDir })).toThrow(JwtSecretError);
  });

  it('refuses to run in production without a secret, even with a dev file present', () => {
    resolveJwtSecret({ env: {}, dataDir });
    expect(() => resolveJwtSecret({ env: { NODE_ENV: 'production', AUTH_JWT_SECRET: '' }, dataDir })).toThrow(
      /AUTH_JWT_SECRET is not set/,
    );
  });

  it('creates a 0600 dev secret file once and reuses it', () => {
    const first = resolveJwtSecret({ env: { NODE_ENV: 'development' }, dataDir });
    const second = resolveJwtSecret({ env: {}, dataDir });
    const file = join(dataDir, DEV_SECRET_FILE);
    expect(first.source).toBe('dev-file');
    expect(second).toEqual(first);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a truncated dev secret file instead of signing with it', () => {
    resolveJwtSecret({ env: {}, dataDir });
    writeFileSync(join(dataDir, DEV_SECRET_FILE), 'abc\n');
    expect(() => resolveJwtSecret({ env: {}, dataDir })).toThrow(JwtSecretError);
  });
});
