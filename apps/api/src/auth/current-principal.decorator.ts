import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from '@csp/application/auth/principal';
import { AuthenticatedRequest } from './authenticated-request';
import { unauthenticated } from './jwt-auth.guard';

/** The verified caller. On a `@Public()` route there is none, and asking for it is a 401, never `undefined`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal === undefined) throw unauthenticated('this route needs an authenticated caller');
  return principal;
});
