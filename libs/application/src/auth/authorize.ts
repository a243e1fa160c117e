import { DomainError } from '@csp/domain/shared/domain-error';
import { hasAnyRole, Principal, PrincipalKind, Role } from './principal';

export interface RequireRoleOptions {
  /**
   * Which kinds of caller the roles count for. Defaults to partner users and services: a customer's
   * `GlobalAdmin` is not the partner's `GlobalAdmin`, so customer access must be granted explicitly.
   */
  kinds?: readonly PrincipalKind[];
}

const PARTNER_SIDE: readonly PrincipalKind[] = ['partner', 'service'];

/** Throws `403 FORBIDDEN` unless the caller is of an allowed kind and holds one of `roles`. */
export function requireRole(principal: Principal, roles: readonly Role[], options: RequireRoleOptions = {}): void {
  const kinds = options.kinds ?? PARTNER_SIDE;
  if (kinds.includes(principal.kind) && hasAnyRole(principal, roles)) return;
  throw new DomainError('FORBIDDEN', 'forbidden', `requires one of the roles ${roles.join(', ')} (as ${kinds.join(' or ')})`, {
    requiredRoles: [...roles],
  });
}
