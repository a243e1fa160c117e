import type { CommandContext } from '@csp/application/command-handling/command-context';
import { DomainError } from '@csp/domain/shared/domain-error';
import { createHash, randomUUID } from 'node:crypto';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { pathOf } from './request-path';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The command context of an HTTP request: the verified caller, a correlation id, and the
 * idempotency key (`Idempotency-Key`, or Partner Center's `MS-RequestId`) with a hash of what
 * was asked, so the same key with another request can be told apart.
 */
export function commandContextOf(request: AuthenticatedRequest): CommandContext {
  const principal = request.principal;
  if (!principal) throw new Error('commandContextOf needs an authenticated request');
  const correlationId = headerValue(request, 'x-correlation-id') ?? headerValue(request, 'ms-correlationid') ?? randomUUID();
  const key = headerValue(request, 'idempotency-key') ?? headerValue(request, 'ms-requestid');
  if (key === undefined) return { principal, correlationId };
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new DomainError('VALIDATION_FAILED', 'invalid', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
      errors: [{ in: 'header', field: 'Idempotency-Key', messages: ['must be 1 to 255 visible ASCII characters'] }],
    });
  }
  return { principal, correlationId, idempotency: { key, requestHash: requestHash(request) } };
}

function requestHash(request: AuthenticatedRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${pathOf(request.url)}\n${canonicalJson(request.body)}`)
    .digest('base64url');
}

/** Key order must not make two equal bodies look different. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function headerValue(request: AuthenticatedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
