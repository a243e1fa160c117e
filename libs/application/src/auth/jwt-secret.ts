import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * HS256 keys shorter than the hash output (32 bytes) weaken the MAC (RFC 7518 §3.2), so a
 * configured secret below that is refused rather than silently accepted.
 */
export const MIN_SECRET_BYTES = 32;
export const DEV_SECRET_FILE = 'dev-jwt-secret';

export type JwtSecretSource = 'env' | 'dev-file';

export interface ResolvedJwtSecret {
  secret: string;
  source: JwtSecretSource;
}

export interface ResolveJwtSecretInput {
  env: Readonly<Record<string, string | undefined>>;
  dataDir: string;
}

/** The service must not start with this; the message says what to set. */
export class JwtSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwtSecretError';
  }
}

/**
 * `AUTH_JWT_SECRET` wins. Outside production a random secret is kept in `<dataDir>/dev-jwt-secret`
 * so the token CLI and a restarted server sign and verify with the same key; in production a
 * missing secret is fatal, since a generated one would be unknown to every other service.
 * An empty `AUTH_JWT_SECRET` counts as unset (compose files often declare it blank).
 */
export function resolveJwtSecret({ env, dataDir }: ResolveJwtSecretInput): ResolvedJwtSecret {
  const configured = env.AUTH_JWT_SECRET;
  if (configured !== undefined && configured !== '') {
    assertLongEnough(configured, 'AUTH_JWT_SECRET');
    return { secret: configured, source: 'env' };
  }
  if (env.NODE_ENV === 'production') {
    throw new JwtSecretError(
      `AUTH_JWT_SECRET is not set; it is required when NODE_ENV=production (at least ${MIN_SECRET_BYTES} bytes, e.g. \`openssl rand -base64 48\`)`,
    );
  }
  return { secret: readOrCreateDevSecret(dataDir), source: 'dev-file' };
}

function readOrCreateDevSecret(dataDir: string): string {
  const path = join(dataDir, DEV_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // `wx` creates only if absent, so a CLI and a server starting together cannot overwrite each other's secret.
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(path, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (error: unknown) {
    if (!isAlreadyExists(error)) throw error;
  }
  const stored = readFileSync(path, 'utf8').trim();
  assertLongEnough(stored, path);
  return stored;
}

function assertLongEnough(secret: string, origin: string): void {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new JwtSecretError(`${origin} must be at least ${MIN_SECRET_BYTES} bytes long`);
  }
}

/** Duck-typed: Node's fs errors fail `instanceof Error` inside Jest's sandbox. */
function isAlreadyExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'EEXIST';
}
