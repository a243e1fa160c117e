import type { DownloadChoices } from '@csp/domain/software/software.events';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a download address carries. `link`: a shareable link (each use counted and recorded, its
 * limits kept in the software stream). `download`: the short-lived address a started download
 * answers with (already recorded as `DownloadStarted`, so fetching it is not a link use).
 */
export type DownloadTokenClaims =
  | { kind: 'link'; softwareId: string; customerId: string; linkId: string; expiresAt: string }
  | { kind: 'download'; softwareId: string; customerId: string; downloadId: string; expiresAt: string; choices: DownloadChoices };

/** How long the address of a started download stays usable. */
export const DOWNLOAD_ADDRESS_VALIDITY_MS = 15 * 60 * 1000;

/**
 * Signs and verifies download tokens: `<payload>.<signature>`, both base64url, the signature
 * HMAC-SHA256 over the payload under a key derived from the master key. A token whose signature does
 * not verify is unknown (404), so a guessed or altered token learns nothing about real ones.
 *
 * @example
 *   const tokens = new DownloadTokens(derivedKey(masterKey, 'download-tokens'));
 *   const token = tokens.sign({ kind: 'link', softwareId, customerId, linkId, expiresAt });
 *   tokens.verify(token); // the claims, or undefined when forged or altered
 */
export class DownloadTokens {
  constructor(private readonly signingKey: Buffer) {
    if (signingKey.length < 32) throw new RangeError('The download token signing key must be at least 32 bytes');
  }

  sign(claims: DownloadTokenClaims): string {
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${payload}.${this.signature(payload).toString('base64url')}`;
  }

  verify(token: string): DownloadTokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return undefined;
    const [payload, signature] = parts as [string, string];
    const expected = this.signature(payload);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DownloadTokenClaims;
    } catch {
      return undefined;
    }
  }

  private signature(payload: string): Buffer {
    return createHmac('sha256', this.signingKey).update(payload, 'utf8').digest();
  }
}
