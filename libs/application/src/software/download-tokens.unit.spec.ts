import { createHmac } from 'node:crypto';
import { DownloadTokens, type DownloadTokenClaims } from './download-tokens';

const key = Buffer.alloc(32, 3);
const claims: DownloadTokenClaims = { kind: 'link', softwareId: 'sub-1', customerId: 'c-1', linkId: 'l-1', expiresAt: '2026-12-14T08:00:00.000Z' };

describe('DownloadTokens', () => {
  it('signs the claims with HMAC-SHA256 and verifies them back', () => {
    const token = new DownloadTokens(key).sign(claims);
    const [payload, signature] = token.split('.') as [string, string];
    expect(signature).toBe(createHmac('sha256', key).update(payload).digest('base64url'));
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual(claims);
    expect(new DownloadTokens(key).verify(token)).toEqual(claims);
  });

  it('knows no token signed with another key, altered in its claims or its signature, or of another shape', () => {
    const tokens = new DownloadTokens(key);
    const token = tokens.sign(claims);
    const [payload, signature] = token.split('.') as [string, string];
    const altered = Buffer.from(JSON.stringify({ ...claims, linkId: 'l-2' })).toString('base64url');
    for (const candidate of [
      new DownloadTokens(Buffer.alloc(32, 4)).sign(claims),
      `${altered}.${signature}`,
      `${payload}.${signature.slice(0, -2)}`,
      `${payload}.${signature}.x`,
      payload,
      '',
      `${payload}.${signature}!`,
    ]) {
      expect(tokens.verify(candidate)).toBeUndefined();
    }
  });

  it('refuses a signing key shorter than 32 bytes', () => {
    expect(() => new DownloadTokens(Buffer.alloc(16))).toThrow(RangeError);
  });
});
