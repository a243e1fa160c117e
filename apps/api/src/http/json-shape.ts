import { RequestValidationError, type FieldErrorCode } from './request-validation.error';

/** No request of the contract nests deeper than a handful of levels or holds long lists. */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_NODES = 5_000;

/**
 * Refuses bodies nested deeper than MAX_JSON_DEPTH or holding more than MAX_JSON_NODES values,
 * before validation sees them: validation and the idempotency hash walk the body recursively, and
 * a few kilobytes of brackets would exhaust the stack, while 85,000 empty objects in 256 kb keep
 * validation busy for seconds. Measured without recursion, so the check itself cannot overflow.
 */
export function limitJsonShape(body: unknown): void {
  const problem = shapeProblem(body);
  if (problem) throw new RequestValidationError([{ in: 'body', messages: [problem.message], ...problem.where }]);
}

/**
 * Members no DTO has and that the object mapping would not treat as data: `__proto__` would set
 * the prototype of the mapped DTO (and so slip past the unknown-member check), the others name
 * built-ins. Refused at any depth like any unknown member.
 */
const PROTOTYPE_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

interface ShapeProblem {
  message: string;
  where: { field: string; code?: FieldErrorCode };
}

function shapeProblem(root: unknown): ShapeProblem | undefined {
  // A node carries its parent's path and its own key; the path is joined only for objects walked
  // into, so a huge flat list costs no strings.
  const pending: Array<[unknown, number, string, string | number]> = [[root, 1, '', '']];
  let nodes = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth, parentPath, key] = next;
    if (++nodes > MAX_JSON_NODES) return { message: `must not hold more than ${MAX_JSON_NODES} values`, where: { field: '' } };
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { message: `must not nest deeper than ${MAX_JSON_DEPTH} levels`, where: { field: '' } };
    const path = joinPath(parentPath, key);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) pending.push([value[index], depth + 1, path, index]);
      continue;
    }
    for (const member of Object.keys(value)) {
      if (PROTOTYPE_MEMBERS.has(member)) {
        return { message: `property ${member} should not exist`, where: { field: joinPath(path, member), code: 'UNKNOWN_MEMBER' } };
      }
      pending.push([(value as Record<string, unknown>)[member], depth + 1, path, member]);
    }
  }
  return undefined;
}

/** `lineItems[0].quantity`: indexes in brackets, members after dots, nothing for the body itself. */
function joinPath(parentPath: string, key: string | number): string {
  if (typeof key === 'number') return `${parentPath}[${key}]`;
  if (key === '') return parentPath;
  return parentPath ? `${parentPath}.${key}` : key;
}
