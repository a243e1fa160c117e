import type { FastifyRequest } from 'fastify';
import type { Principal } from '@csp/application/auth/principal';

/** Set by JwtAuthGuard on every non-public route. */
export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
}
