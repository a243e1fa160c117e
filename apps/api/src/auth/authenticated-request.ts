import type { Request } from 'express';
import type { Principal } from '@csp/application/auth/principal';

/** Set by JwtAuthGuard on every non-public route. */
export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}
