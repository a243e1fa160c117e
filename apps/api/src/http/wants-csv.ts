import accepts from 'accepts';
import type { FastifyRequest } from 'fastify';

/** Whether the `Accept` header prefers CSV to JSON (content negotiation as RFC 9110 weighs it). */
export function wantsCsv(request: FastifyRequest): boolean {
  return accepts(request.raw).type(['application/json', 'text/csv']) === 'text/csv';
}
