import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, InvalidTokenError, verifyToken, type TokenPolicy } from '@csp/application/auth/jwt';
import type { Principal } from '@csp/application/auth/principal';
import type { EngineConfig } from '@csp/engine/config/engine-config';
import { ENGINE_CONFIG } from '@csp/engine/config/engine-config.token';
import { ProblemException } from '../http/problem.exception';
import { AuthenticatedRequest } from './authenticated-request';
import { IS_PUBLIC_KEY } from './public.decorator';

export const JWT_SECRET = Symbol('JWT_SECRET');

/** `Authorization: Bearer <token>`; the token is the first group. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authentication: who is calling, and a partner token without any known role stops here. Whether
 * a caller may act on a tenant or needs a particular role is decided by the application handlers,
 * which see the whole command.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(JWT_SECRET) private readonly secret: string,
    /** Absent where the guard runs without the engine (HTTP-layer tests): the default lifetime. */
    @Optional() @Inject(ENGINE_CONFIG) config?: EngineConfig,
  ) {
    this.policy = { maxLifetimeSeconds: config?.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS };
  }

  private readonly policy: TokenPolicy;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined) throw unauthenticated('an `Authorization: Bearer <token>` header is required');
    try {
      request.principal = await verifyToken(token, this.secret, this.policy);
    } catch (error: unknown) {
      if (error instanceof InvalidTokenError) {
        throw new ProblemException(401, 'UNAUTHENTICATED', `the bearer token was refused: ${error.message}`, { reason: error.reason });
      }
      throw error;
    }
    refuseRolelessPartner(request.principal);
    return true;
  }
}

/**
 * The role table grants a partner user everything through its roles; one with none this service
 * knows (a Partner Center user with only other roles) may read nothing, not even the catalogue.
 */
function refuseRolelessPartner(principal: Principal): void {
  if (principal.kind === 'partner' && principal.roles.length === 0) {
    throw new ProblemException(403, 'FORBIDDEN', 'the token carries no role this service knows (AdminAgent, GlobalAdmin)', {
      requiredRoles: ['AdminAgent', 'GlobalAdmin'],
    });
  }
}

export function unauthenticated(detail: string): ProblemException {
  return new ProblemException(401, 'UNAUTHENTICATED', detail);
}
