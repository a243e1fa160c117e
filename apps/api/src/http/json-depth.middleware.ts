import type { NextFunction, Request, Response } from 'express';
import { RequestValidationError } from './request-validation.error';

/** No request of the contract nests deeper than a handful of levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses bodies nested deeper than MAX_JSON_DEPTH before validation sees them: validation and the
 * idempotency hash walk the body recursively, and a few kilobytes of brackets would exhaust the
 * stack. Measured without recursion, so the check itself cannot overflow.
 */
export function limitJsonDepth(request: Request, _response: Response, next: NextFunction): void {
  if (depthExceeds(request.body, MAX_JSON_DEPTH)) {
    next(new RequestValidationError([{ in: 'body', field: '', messages: [`must not nest deeper than ${MAX_JSON_DEPTH} levels`] }]));
    return;
  }
  next();
}

function depthExceeds(root: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return true;
    for (const member of Object.values(value)) pending.push([member, depth + 1]);
  }
  return false;
}
