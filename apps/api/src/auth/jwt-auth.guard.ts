import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InvalidTokenError, verifyToken } from '@csp/application/auth/jwt';
import { ProblemException } from '../http/problem.exception';
import { AuthenticatedRequest } from './authenticated-request';
import { IS_PUBLIC_KEY } from './public.decorator';

export const JWT_SECRET = Symbol('JWT_SECRET');

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authentication only: who is calling. Whether that caller may act on a tenant or needs a role is
 * decided by the application handlers, which see the whole command.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(JWT_SECRET) private readonly secret: string,
  ) {}

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
      request.principal = await verifyToken(token, this.secret);
    } catch (error: unknown) {
      if (error instanceof InvalidTokenError) throw unauthenticated(`the bearer token was refused: ${error.message}`);
      throw error;
    }
    return true;
  }
}

export function unauthenticated(detail: string): ProblemException {
  return new ProblemException(401, 'UNAUTHENTICATED', detail);
}
