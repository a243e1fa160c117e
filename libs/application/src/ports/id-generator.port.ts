import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';

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

const DETERMINISTIC_NAMESPACE = '6f1d4c1e-2b1a-4c39-9a57-3d0b7c1f0a42';

/** The same name always gives the same id: how a retried command re-creates the same order and events. */
export function deterministicId(...parts: string[]): string {
  return uuidv5(parts.join('\u241f'), DETERMINISTIC_NAMESPACE);
}
