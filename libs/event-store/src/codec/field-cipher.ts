/**
 * Envelope encryption for single event fields (AES-256-GCM, node:crypto): each stream gets its own
 * data key, stored wrapped under a master key, and each secret field is encrypted under the data
 * key with its context (e.g. the software id) as additional authenticated data, so a ciphertext
 * copied to another item, or altered in any bit, fails to decrypt instead of yielding a wrong key.
 *
 * @example
 *   const dataKey = generateDataKey();
 *   const stored = wrapDataKey(dataKey, masterKey);            // 'v1.<iv>.<tag>.<ciphertext>'
 *   const field = encryptField(productKey, dataKey, softwareId); // JSON-safe, goes into the event
 *   decryptField(field, unwrapDataKey(stored, masterKey), softwareId) === productKey;
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A field as it is written to the log: base64url strings, safe in JSON. */
export interface EncryptedField {
  alg: 'A256GCM';
  iv: string;
  tag: string;
  ciphertext: string;
}

/** The ciphertext did not verify: wrong key, wrong context, or altered data. Never carries plaintext. */
export class FieldDecryptionError extends Error {
  constructor(what: string) {
    super(`${what} could not be decrypted: wrong key, wrong context, or altered data`);
    this.name = 'FieldDecryptionError';
  }
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; random ones are safe for far more encryptions per key than a stream will see.
const IV_BYTES = 12;
// A full 128-bit tag; shorter tags weaken forgery resistance and node would otherwise accept them.
const TAG_BYTES = 16;
const WRAPPED_KEY_VERSION = 'v1';
// Distinct prefixes keep wrapped data keys and encrypted fields apart, whatever context a caller
// passes, so neither can be passed off as the other.
const WRAP_AAD = 'csp:data-key:v1';
const FIELD_AAD_PREFIX = 'csp:field:';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** 32 random bytes: a fresh data key. */
export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Encrypts a data key under the master key into one printable string, `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function wrapDataKey(dataKey: Buffer, masterKey: Buffer): string {
  assertKey(dataKey, 'data key');
  const sealed = seal(dataKey, masterKey, WRAP_AAD, 'master key');
  return [WRAPPED_KEY_VERSION, sealed.iv, sealed.tag, sealed.ciphertext].join('.');
}

export function unwrapDataKey(wrapped: string, masterKey: Buffer): Buffer {
  const parts = wrapped.split('.');
  if (parts.length !== 4 || parts[0] !== WRAPPED_KEY_VERSION) {
    throw new FieldDecryptionError(`wrapped data key (not a ${WRAPPED_KEY_VERSION} envelope)`);
  }
  const [, iv, tag, ciphertext] = parts as [string, string, string, string];
  const dataKey = open({ iv, tag, ciphertext }, masterKey, WRAP_AAD, 'wrapped data key', 'master key');
  if (dataKey.length !== KEY_BYTES) throw new FieldDecryptionError('wrapped data key');
  return dataKey;
}

/** `aad` is the context the value belongs to; decryption must present the same one. */
export function encryptField(plaintext: string, dataKey: Buffer, aad: string): EncryptedField {
  return { alg: 'A256GCM', ...seal(Buffer.from(plaintext, 'utf8'), dataKey, FIELD_AAD_PREFIX + aad, 'data key') };
}

export function decryptField(field: EncryptedField, dataKey: Buffer, aad: string): string {
  if (field.alg !== 'A256GCM') throw new FieldDecryptionError(`field (unknown algorithm ${String(field.alg)})`);
  return open(field, dataKey, FIELD_AAD_PREFIX + aad, 'field', 'data key').toString('utf8');
}

/** Tells an encrypted field from a plain value when reading events written before encryption began. */
export function isEncryptedField(value: unknown): value is EncryptedField {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    candidate['alg'] === 'A256GCM' &&
    typeof candidate['iv'] === 'string' &&
    typeof candidate['tag'] === 'string' &&
    typeof candidate['ciphertext'] === 'string'
  );
}

interface Sealed {
  iv: string;
  tag: string;
  ciphertext: string;
}

function seal(plaintext: Buffer, key: Buffer, aad: string, keyName: string): Sealed {
  assertKey(key, keyName);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ciphertext: ciphertext.toString('base64url') };
}

function open(sealed: Sealed, key: Buffer, aad: string, what: string, keyName: string): Buffer {
  assertKey(key, keyName);
  const iv = decodeBase64url(sealed.iv, IV_BYTES, what);
  const tag = decodeBase64url(sealed.tag, TAG_BYTES, what);
  const ciphertext = decodeBase64url(sealed.ciphertext, undefined, what);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new FieldDecryptionError(what);
  }
}

/** Node's base64url decoder skips characters it does not know; a strict check keeps altered text from slipping through. */
function decodeBase64url(text: string, expectedBytes: number | undefined, what: string): Buffer {
  if (typeof text !== 'string' || !BASE64URL.test(text)) throw new FieldDecryptionError(`${what} (not base64url)`);
  const bytes = Buffer.from(text, 'base64url');
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) throw new FieldDecryptionError(`${what} (bad length)`);
  return bytes;
}

function assertKey(key: Buffer, name: string): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new RangeError(`The ${name} must be ${KEY_BYTES} bytes`);
  }
}
