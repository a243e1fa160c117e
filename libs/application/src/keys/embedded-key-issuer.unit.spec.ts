import { createHmac } from 'node:crypto';
import { EmbeddedKeyIssuer, KeyIssuerExhaustedError, type RandomIndex } from './embedded-key-issuer';
import { InMemoryIssuedKeyRegistry, IssuedKeyRegistry } from './issued-key-registry';

const secret = 'a-test-fingerprint-secret-of-at-least-32-bytes';
const request = { softwareId: 'sub-1', productId: 'WS2022', skuId: 'WS2022DC-P1Y' };
// Written out here rather than imported, so a wrong alphabet in the issuer cannot pass its own test.
const microsoftAlphabet = 'BCDFGHJKMPQRTVWXY2346789';
const macShape = new RegExp(`^[${microsoftAlphabet}]{5}(-[${microsoftAlphabet}]{5}){4}$`);

/** A random source that spells out the given keys, one character per draw. */
function scriptedSource(...productKeys: string[]): RandomIndex {
  const indices = productKeys.flatMap((productKey) => [...productKey.replace(/-/g, '')].map((character) => microsoftAlphabet.indexOf(character)));
  return () => {
    const next = indices.shift();
    if (next === undefined) throw new Error('the scripted random source ran dry');
    return next;
  };
}

class RecordingRegistry extends IssuedKeyRegistry {
  readonly fingerprints: string[] = [];
  constructor(private readonly answers: boolean[]) {
    super();
  }
  async claim(fingerprint: string): Promise<boolean> {
    this.fingerprints.push(fingerprint);
    return this.answers.shift() ?? true;
  }
}

describe('EmbeddedKeyIssuer', () => {
  it('makes 25-character MAK-shaped keys from the Microsoft product-key alphabet', async () => {
    const issuer = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), secret);
    for (let index = 0; index < 200; index++) {
      const productKey = await issuer.issue(request);
      expect(productKey).toMatch(macShape);
      expect(productKey.replace(/-/g, '')).toHaveLength(25);
    }
  });

  it('uses every letter of the alphabet and nothing else over many keys', async () => {
    const issuer = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), secret);
    const seen = new Set<string>();
    for (let index = 0; index < 200; index++) for (const character of (await issuer.issue(request)).replace(/-/g, '')) seen.add(character);
    expect([...seen].sort().join('')).toBe([...microsoftAlphabet].sort().join(''));
  });

  it('hands out distinct keys across many issues', async () => {
    const registry = new InMemoryIssuedKeyRegistry();
    const issuer = new EmbeddedKeyIssuer(registry, secret);
    const keys = await Promise.all(Array.from({ length: 2000 }, () => issuer.issue(request)));
    expect(new Set(keys).size).toBe(2000);
    expect(registry.size).toBe(2000);
  });

  it('draws again when the registry says a key was taken', async () => {
    const registry = new RecordingRegistry([false]);
    const issuer = new EmbeddedKeyIssuer(registry, secret);
    const productKey = await issuer.issue(request);
    expect(registry.fingerprints).toHaveLength(2);
    expect(registry.fingerprints[1]).toBe(createHmac('sha256', secret).update(productKey).digest('hex'));
    expect(registry.fingerprints[0]).not.toBe(registry.fingerprints[1]);
  });

  it('never repeats a key even when the random source does', async () => {
    const repeated = 'BCDFG-HJKMP-QRTVW-XY234-6789B';
    const fresh = 'QQQQQ-RRRRR-TTTTT-VVVVV-22222';
    const issuer = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), secret, scriptedSource(repeated, repeated, fresh));
    expect(await issuer.issue(request)).toBe(repeated);
    expect(await issuer.issue(request)).toBe(fresh);
  });

  it('gives up with a clear error when every key it draws is taken', async () => {
    const issuer = new EmbeddedKeyIssuer(new RecordingRegistry(Array(100).fill(false)), secret);
    await expect(issuer.issue(request)).rejects.toBeInstanceOf(KeyIssuerExhaustedError);
  });

  it('shows the registry fingerprints only, never key text', async () => {
    const registry = new RecordingRegistry([]);
    const productKey = await new EmbeddedKeyIssuer(registry, secret).issue(request);
    expect(registry.fingerprints[0]).toMatch(/^[0-9a-f]{64}$/);
    for (const group of productKey.split('-')) expect(registry.fingerprints[0]).not.toContain(group);
  });

  it('fingerprints depend on the secret', () => {
    const productKey = 'BCDFG-HJKMP-QRTVW-XY234-6789B';
    const one = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), secret);
    const other = new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), `${secret}-other`);
    expect(one.fingerprint(productKey)).toBe(createHmac('sha256', secret).update(productKey).digest('hex'));
    expect(other.fingerprint(productKey)).not.toBe(one.fingerprint(productKey));
  });

  it('refuses a fingerprint secret shorter than 32 bytes', () => {
    expect(() => new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), 'short')).toThrow(RangeError);
    expect(() => new EmbeddedKeyIssuer(new InMemoryIssuedKeyRegistry(), Buffer.alloc(32, 1))).not.toThrow();
  });
});

describe('InMemoryIssuedKeyRegistry', () => {
  it('claims a fingerprint once', async () => {
    const registry = new InMemoryIssuedKeyRegistry();
    expect(await registry.claim('f1')).toBe(true);
    expect(await registry.claim('f1')).toBe(false);
    expect(await registry.claim('f2')).toBe(true);
  });
});
