import { randomBytes } from 'node:crypto';
import {
  decryptField,
  encryptField,
  FieldDecryptionError,
  generateDataKey,
  isEncryptedField,
  unwrapDataKey,
  wrapDataKey,
  type EncryptedField,
} from './field-cipher';

const productKey = 'BCDFG-HJKMP-QRTVW-XY234-6789B';
const context = 'software-sub-1';

/** Flips one bit of a base64url value, keeping it valid base64url of the same length. */
function flipBit(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64url');
}

function decryptionFails(run: () => unknown): void {
  expect(run).toThrow(FieldDecryptionError);
}

describe('data keys', () => {
  it('are 32 random bytes', () => {
    const first = generateDataKey();
    expect(first).toHaveLength(32);
    expect(generateDataKey().equals(first)).toBe(false);
  });

  it('wrap into one printable v1 string and unwrap to the same bytes', () => {
    const masterKey = randomBytes(32);
    const dataKey = generateDataKey();
    const wrapped = wrapDataKey(dataKey, masterKey);
    expect(wrapped).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(unwrapDataKey(wrapped, masterKey).equals(dataKey)).toBe(true);
  });

  it('do not unwrap under another master key', () => {
    const wrapped = wrapDataKey(generateDataKey(), randomBytes(32));
    decryptionFails(() => unwrapDataKey(wrapped, randomBytes(32)));
  });

  it('do not unwrap when any part was altered', () => {
    const masterKey = randomBytes(32);
    const [version, iv, tag, ciphertext] = wrapDataKey(generateDataKey(), masterKey).split('.') as [string, string, string, string];
    decryptionFails(() => unwrapDataKey([version, flipBit(iv), tag, ciphertext].join('.'), masterKey));
    decryptionFails(() => unwrapDataKey([version, iv, flipBit(tag), ciphertext].join('.'), masterKey));
    decryptionFails(() => unwrapDataKey([version, iv, tag, flipBit(ciphertext)].join('.'), masterKey));
    decryptionFails(() => unwrapDataKey(['v2', iv, tag, ciphertext].join('.'), masterKey));
    decryptionFails(() => unwrapDataKey([version, iv, tag].join('.'), masterKey));
  });

  it('cannot be passed off as an encrypted field, nor a field as a wrapped key', () => {
    const masterKey = randomBytes(32);
    const [, iv, tag, ciphertext] = wrapDataKey(generateDataKey(), masterKey).split('.') as [string, string, string, string];
    decryptionFails(() => decryptField({ alg: 'A256GCM', iv, tag, ciphertext }, masterKey, ''));
    // 32 ASCII characters: as long as a data key, under the very context string wrapping uses.
    const field = encryptField('0123456789abcdef0123456789abcdef', masterKey, 'csp:data-key:v1');
    decryptionFails(() => unwrapDataKey(['v1', field.iv, field.tag, field.ciphertext].join('.'), masterKey));
  });

  it('refuse keys that are not 32 bytes', () => {
    expect(() => wrapDataKey(randomBytes(16), randomBytes(32))).toThrow(RangeError);
    expect(() => wrapDataKey(randomBytes(32), randomBytes(31))).toThrow(RangeError);
    expect(() => encryptField(productKey, randomBytes(24), context)).toThrow(RangeError);
  });
});

describe('encrypted fields', () => {
  const dataKey = generateDataKey();

  it('round-trip the plaintext under the same key and context', () => {
    expect(decryptField(encryptField(productKey, dataKey, context), dataKey, context)).toBe(productKey);
  });

  it('round-trip non-ASCII and empty text', () => {
    for (const text of ['', 'Schlüssel ключ 鍵 🔑']) expect(decryptField(encryptField(text, dataKey, context), dataKey, context)).toBe(text);
  });

  it('are JSON-safe base64url with a 12-byte IV and a 16-byte tag', () => {
    const field = encryptField(productKey, dataKey, context);
    expect(JSON.parse(JSON.stringify(field))).toEqual(field);
    expect(field.alg).toBe('A256GCM');
    expect(Buffer.from(field.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(field.tag, 'base64url')).toHaveLength(16);
    expect(field.ciphertext).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('never contain the plaintext or any group of it', () => {
    const json = JSON.stringify(encryptField(productKey, dataKey, context));
    for (const group of productKey.split('-')) expect(json).not.toContain(group);
    expect(json).not.toContain(Buffer.from(productKey).toString('base64url'));
  });

  it('differ each time the same text is encrypted (fresh IV)', () => {
    const first = encryptField(productKey, dataKey, context);
    const second = encryptField(productKey, dataKey, context);
    expect(second.iv).not.toBe(first.iv);
    expect(second.ciphertext).not.toBe(first.ciphertext);
  });

  it('fail under another data key', () => {
    decryptionFails(() => decryptField(encryptField(productKey, dataKey, context), generateDataKey(), context));
  });

  it('fail in another context: a ciphertext moved to another item does not decrypt', () => {
    decryptionFails(() => decryptField(encryptField(productKey, dataKey, context), dataKey, 'software-sub-2'));
  });

  it('fail when the ciphertext, the tag or the IV was altered', () => {
    const field = encryptField(productKey, dataKey, context);
    decryptionFails(() => decryptField({ ...field, ciphertext: flipBit(field.ciphertext) }, dataKey, context));
    decryptionFails(() => decryptField({ ...field, tag: flipBit(field.tag) }, dataKey, context));
    decryptionFails(() => decryptField({ ...field, iv: flipBit(field.iv) }, dataKey, context));
  });

  it('fail on a truncated tag or characters outside base64url', () => {
    const field = encryptField(productKey, dataKey, context);
    decryptionFails(() => decryptField({ ...field, tag: Buffer.from(field.tag, 'base64url').subarray(0, 12).toString('base64url') }, dataKey, context));
    decryptionFails(() => decryptField({ ...field, ciphertext: `${field.ciphertext}!` }, dataKey, context));
  });

  it('fail on an unknown algorithm', () => {
    const field = encryptField(productKey, dataKey, context);
    decryptionFails(() => decryptField({ ...field, alg: 'A128GCM' } as unknown as EncryptedField, dataKey, context));
  });

  it('say what failed without quoting the data', () => {
    const field = encryptField(productKey, dataKey, context);
    expect(() => decryptField(field, dataKey, 'other')).toThrow('field could not be decrypted: wrong key, wrong context, or altered data');
  });

  it('are told apart from plain values', () => {
    expect(isEncryptedField(encryptField(productKey, dataKey, context))).toBe(true);
    expect(isEncryptedField(productKey)).toBe(false);
    expect(isEncryptedField(null)).toBe(false);
    expect(isEncryptedField({ alg: 'A256GCM', iv: 'x', tag: 'y' })).toBe(false);
  });
});
