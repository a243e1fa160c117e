import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedKey, KeyEncryptionKeyError, resolveKeyEncryptionKey } from './key-encryption-key';

describe('resolveKeyEncryptionKey', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'csp-kek-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const bytes = Buffer.from(Array.from({ length: 32 }, (_, index) => index));

  it('reads 32 bytes from base64, base64url or hex', () => {
    for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), ` ${bytes.toString('hex')}\n`]) {
      expect(resolveKeyEncryptionKey({ configured: text, production: true, dataDir })).toEqual({ key: bytes, source: 'env' });
    }
  });

  it('refuses a key of any other length or form', () => {
    for (const text of [Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('hex'), 'not a key!']) {
      expect(() => resolveKeyEncryptionKey({ configured: text, production: false, dataDir })).toThrow(KeyEncryptionKeyError);
    }
  });

  it('refuses production without a key, naming the variable', () => {
    for (const configured of [undefined, '']) {
      expect(() => resolveKeyEncryptionKey({ configured, production: true, dataDir })).toThrow(/KEY_ENCRYPTION_KEY is not set.*NODE_ENV=production/);
    }
  });

  it('outside production generates a development key once into DATA_DIR (0600) and reuses it', () => {
    const first = resolveKeyEncryptionKey({ configured: undefined, production: false, dataDir });
    const file = join(dataDir, 'dev-key-encryption-key');
    expect(first).toEqual({ key: expect.any(Buffer), source: 'dev-file', file });
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toEqual(first.key);
    expect(resolveKeyEncryptionKey({ configured: '', production: false, dataDir }).key).toEqual(first.key);
  });

  it('derives distinct 32-byte keys per purpose', () => {
    const links = derivedKey(bytes, 'download-tokens');
    expect(links).toHaveLength(32);
    expect(links).toEqual(derivedKey(bytes, 'download-tokens'));
    expect(links).not.toEqual(derivedKey(bytes, 'issued-key-fingerprints'));
    expect(links).not.toEqual(bytes);
  });
});
