import { unwrapDataKey, wrapDataKey } from '@csp/event-store/codec/field-cipher';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { derivedKey } from '../keys/key-encryption-key';

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A fresh signing secret in the Standard Webhooks form, `whsec_<base64 of 32 random bytes>`. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * Keeps signing secrets at rest only wrapped (AES-256-GCM) under a key derived from the master key
 * (KEY_ENCRYPTION_KEY), so a copy of the read store does not let anyone forge deliveries.
 *
 * @example
 *   const box = new WebhookSecretBox(masterKey);
 *   const stored = box.seal(secret); box.open(stored) === secret;
 */
export class WebhookSecretBox {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = derivedKey(masterKey, 'webhook-secrets');
  }

  seal(secret: string): string {
    return wrapDataKey(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'), this.key);
  }

  open(sealed: string): string {
    return SECRET_PREFIX + unwrapDataKey(sealed, this.key).toString('base64');
  }
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The Standard Webhooks headers of one delivery: HMAC-SHA256 over `<id>.<timestamp>.<body>`, one
 * `v1,<signature>` per secret, space-separated, so during a rotation a receiver holding either the
 * old or the new secret verifies it.
 *
 * @example signedHeaders(['whsec_...'], 'evt-1:order.placed:0', new Date(), body)
 */
export function signedHeaders(secrets: readonly string[], messageId: string, timestamp: Date, body: string): SignedHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, body)).join(' '),
  };
}
