import { hash } from 'node:crypto';
import { parse as parseUuid, v7 as uuidv7 } from 'uuid';

/** Fresh ids arrive with commands from here; the domain never makes ids. */
export abstract class IdGenerator {
  abstract newId(): string;
}

/** Time-ordered ids (UUIDv7) keep SQLite's indexes append-mostly, which makes batched appends faster. */
export class Uuid7Generator extends IdGenerator {
  newId(): string {
    return uuidv7();
  }
}

export const DETERMINISTIC_NAMESPACE = '6f1d4c1e-2b1a-4c39-9a57-3d0b7c1f0a42';
const NAMESPACE_BYTES = Buffer.from(parseUuid(DETERMINISTIC_NAMESPACE));

/**
 * The same name always gives the same id: how a retried command re-creates the same order and events.
 * A name-based UUIDv5 (RFC 9562) of the parts, computed with one SHA-1 call: a purchase makes several,
 * and uuid's v5 parses the namespace and builds a hash object each time.
 */
export function deterministicId(...parts: string[]): string {
  const digest = hash('sha1', Buffer.concat([NAMESPACE_BYTES, Buffer.from(parts.join('\u241f'), 'utf8')]), 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
