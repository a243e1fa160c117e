import type { NextFunction, Request, Response } from 'express';
import { RequestValidationError } from './request-validation.error';

/** No request of the contract nests deeper than a handful of levels or holds long lists. */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_NODES = 5_000;

/**
 * Refuses bodies nested deeper than MAX_JSON_DEPTH or holding more than MAX_JSON_NODES values,
 * before validation sees them: validation and the idempotency hash walk the body recursively, and
 * a few kilobytes of brackets would exhaust the stack, while 85,000 empty objects in 256 kb keep
 * validation busy for seconds. Measured without recursion, so the check itself cannot overflow.
 */
export function limitJsonShape(request: Request, _response: Response, next: NextFunction): void {
  const problem = shapeProblem(request.body);
  if (problem) {
    next(new RequestValidationError([{ in: 'body', field: problem.field, messages: [problem.message] }]));
    return;
  }
  next();
}

/**
 * Members no DTO has and that the object mapping would not treat as data: `__proto__` would set
 * the prototype of the mapped DTO (and so slip past the unknown-member check), the others name
 * built-ins. Refused at any depth like any unknown member.
 */
const PROTOTYPE_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

function shapeProblem(root: unknown): { field: string; message: string } | undefined {
  const pending: Array<[unknown, number, string]> = [[root, 1, '']];
  let nodes = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth, path] = next;
    if (++nodes > MAX_JSON_NODES) return { field: '', message: `must not hold more than ${MAX_JSON_NODES} values` };
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { field: '', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` };
    const isList = Array.isArray(value);
    for (const [key, member] of Object.entries(value)) {
      const memberPath = isList ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isList && PROTOTYPE_MEMBERS.has(key)) return { field: memberPath, message: `property ${key} should not exist` };
      pending.push([member, depth + 1, memberPath]);
    }
  }
  return undefined;
}
