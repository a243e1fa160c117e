import type { Principal } from '../auth/principal';

/** Who asked, and the idempotency key they sent (scoped to their tenant). */
export interface CommandContext {
  principal: Principal;
  correlationId: string;
  idempotency?: {
    key: string;
    /** Hash of what the caller asked (method, path, body): the same key with another request is refused. */
    requestHash: string;
  };
}
