import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_ENCRYPTION_KEY_BYTES = 32;
export const DEV_KEY_ENCRYPTION_KEY_FILE = 'dev-key-encryption-key';

/** The service must not start with this; the message says what to set. */
export class KeyEncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionKeyError';
  }
}

export interface ResolvedKeyEncryptionKey {
  key: Buffer;
  source: 'env' | 'dev-file';
  /** Where the development key is kept, when that is the source. */
  file?: string;
}

export interface ResolveKeyEncryptionKeyInput {
  /** `KEY_ENCRYPTION_KEY` as configured: 32 bytes, base64 (or base64url) or 64 hex digits. */
  configured: string | undefined;
  production: boolean;
  dataDir: string;
}

/**
 * The master key that wraps every purchase's data key. `KEY_ENCRYPTION_KEY` wins; outside production
 * a random key is kept in `<dataDir>/dev-key-encryption-key` (0600) so restarts and the projector
 * find the same one; in production a missing key is fatal, since a generated one would make every
 * stored product key unreadable on the next host.
 *
 * @example
 *   const { key, source } = resolveKeyEncryptionKey({ configured: env.KEY_ENCRYPTION_KEY, production: false, dataDir });
 */
export function resolveKeyEncryptionKey({ configured, production, dataDir }: ResolveKeyEncryptionKeyInput): ResolvedKeyEncryptionKey {
  if (configured !== undefined && configured !== '') return { key: parseKeyEncryptionKey(configured, 'KEY_ENCRYPTION_KEY'), source: 'env' };
  if (production) {
    throw new KeyEncryptionKeyError(
      `KEY_ENCRYPTION_KEY is not set; it is required when NODE_ENV=production (${KEY_ENCRYPTION_KEY_BYTES} random bytes, base64 or hex, e.g. \`openssl rand -base64 32\`)`,
    );
  }
  const file = join(dataDir, DEV_KEY_ENCRYPTION_KEY_FILE);
  return { key: readOrCreateDevKey(file), source: 'dev-file', file };
}

/** 64 hex digits, or base64/base64url text of exactly 32 bytes; anything else is refused. */
export function parseKeyEncryptionKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : undefined;
  if (!key || key.length !== KEY_ENCRYPTION_KEY_BYTES) {
    throw new KeyEncryptionKeyError(`${origin} must be ${KEY_ENCRYPTION_KEY_BYTES} bytes, written as base64 or 64 hex digits`);
  }
  return key;
}

/**
 * A key for one purpose derived from the master key (HKDF-SHA256), so the link signatures and the
 * issued-key fingerprints never reuse the key that wraps data keys.
 */
export function derivedKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `csp:${purpose}`, 32));
}

function readOrCreateDevKey(file: string): Buffer {
  mkdirSync(join(file, '..'), { recursive: true });
  try {
    // `wx` creates only if absent, so an api and a projector starting together cannot overwrite each other's key.
    const key = randomBytes(KEY_ENCRYPTION_KEY_BYTES);
    writeFileSync(file, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    return key;
  } catch (error: unknown) {
    if (!isAlreadyExists(error)) throw error;
  }
  return parseKeyEncryptionKey(readFileSync(file, 'utf8'), file);
}

/** Duck-typed: Node's fs errors fail `instanceof Error` inside Jest's sandbox. */
function isAlreadyExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'EEXIST';
}

/** Injection token of the master key (a Buffer), resolved once at start. */
export const KEY_ENCRYPTION_KEY = Symbol('KEY_ENCRYPTION_KEY');
