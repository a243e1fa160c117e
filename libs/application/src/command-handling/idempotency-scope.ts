import { DomainError } from '@csp/domain/shared/domain-error';
import type { CommandContext } from './command-context';

/** Keys are scoped to the caller's tenant: two partners may use the same key. */
export function idempotencyScope(context: CommandContext): string {
  return `${context.principal.kind}:${context.principal.tenantId}`;
}

export function keyReused(): DomainError {
  return new DomainError('IDEMPOTENCY_KEY_REUSED', 'unprocessable', 'This Idempotency-Key was already used for a different request');
}
