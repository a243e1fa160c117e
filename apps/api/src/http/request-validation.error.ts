import { getMetadataStorage, type ValidationError } from 'class-validator';
import { parse, type ParseError } from 'jsonc-parser';

/** Where the offending value was (OpenAPI's parameter locations), so `id` in a path and in a body differ. */
export type FieldLocation = 'body' | 'query' | 'path' | 'header';

/**
 * Stable reasons a client can branch on, from the most basic to the most specific: a member missing,
 * of the wrong JSON type, not one of the allowed values, outside a limit, of the wrong form; a member
 * the contract does not have; a body that is not JSON; members that exclude each other.
 */
export type FieldErrorCode = 'REQUIRED' | 'TYPE' | 'ENUM' | 'RANGE' | 'FORMAT' | 'UNKNOWN_MEMBER' | 'SYNTAX' | 'CONFLICT';

export interface FieldLimit {
  minimum?: number;
  maximum?: number;
  allowed?: unknown[];
}

export interface FieldError {
  in: FieldLocation;
  /** Dotted path with array indexes, e.g. `lineItems[0].quantity`; empty for the body as a whole. */
  field: string;
  code: FieldErrorCode;
  messages: string[];
  limit?: FieldLimit;
  /** SYNTAX only: where the JSON broke, counted from 1. */
  line?: number;
  column?: number;
}

/** An entry whose reason is not named is a value of the right type in the wrong form. */
export type FieldErrorInput = Omit<FieldError, 'code'> & { code?: FieldErrorCode };

/** Becomes `400 VALIDATION_FAILED` with `errors: FieldError[]`. */
export class RequestValidationError extends Error {
  readonly errors: FieldError[];

  constructor(errors: readonly FieldErrorInput[]) {
    super(`invalid request: ${errors.map((error) => error.field || error.in).join(', ')}`);
    this.name = 'RequestValidationError';
    this.errors = errors.map((error) => ({ ...error, code: error.code ?? 'FORMAT' }));
  }
}

/** class-validator's constraint names by the code they mean; anything not listed is a FORMAT problem. */
const CODE_OF_CONSTRAINT: Record<string, FieldErrorCode> = {
  isString: 'TYPE',
  isInt: 'TYPE',
  isNumber: 'TYPE',
  isBoolean: 'TYPE',
  isArray: 'TYPE',
  isObject: 'TYPE',
  nestedValidation: 'TYPE',
  unknownValue: 'TYPE',
  isIn: 'ENUM',
  isEnum: 'ENUM',
  min: 'RANGE',
  max: 'RANGE',
  isLength: 'RANGE',
  minLength: 'RANGE',
  maxLength: 'RANGE',
  arrayMinSize: 'RANGE',
  arrayMaxSize: 'RANGE',
  whitelistValidation: 'UNKNOWN_MEMBER',
};
/** When a value breaks several rules, the most basic one is the one to fix first (and the only one reported). */
const PRECEDENCE: readonly FieldErrorCode[] = ['UNKNOWN_MEMBER', 'TYPE', 'ENUM', 'RANGE', 'FORMAT'];

export function fieldErrorsOf(errors: readonly ValidationError[], location: FieldLocation): FieldError[] {
  return collect(errors, location, '', false);
}

function collect(errors: readonly ValidationError[], location: FieldLocation, parent: string, parentIsArray: boolean): FieldError[] {
  return errors.flatMap((error) => {
    const field = parentIsArray ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    if (Object.keys(constraints).length > 0 && error.value === undefined && !('whitelistValidation' in constraints)) {
      return [{ in: location, field, code: 'REQUIRED' as const, messages: [`${field} is required`] }];
    }
    const own = Object.keys(constraints).length > 0 ? [fieldError(error, location, field, constraints)] : [];
    return own.concat(collect(error.children ?? [], location, field, Array.isArray(error.value)));
  });
}

function fieldError(error: ValidationError, location: FieldLocation, field: string, constraints: Record<string, string>): FieldError {
  const byCode = (name: string): FieldErrorCode => CODE_OF_CONSTRAINT[name] ?? 'FORMAT';
  const code = PRECEDENCE.find((candidate) => Object.keys(constraints).some((name) => byCode(name) === candidate)) ?? 'FORMAT';
  const names = Object.keys(constraints).filter((name) => byCode(name) === code);
  if (code === 'UNKNOWN_MEMBER') return { in: location, field, code, messages: [`${field} is not a member of this request`] };
  const limit = code === 'RANGE' || code === 'ENUM' ? limitOf(error) : undefined;
  const messages = code === 'RANGE' && limit ? [rangeMessage(field, names, limit)] : names.map((name) => constraints[name]!);
  return { in: location, field, code, messages, ...(limit ? { limit } : {}) };
}

/** The bounds declared on the property (both of them, so the message can name the whole range). */
function limitOf(error: ValidationError): FieldLimit | undefined {
  const target = error.target as object | undefined;
  if (!target) return undefined;
  const metadata = getMetadataStorage()
    .getTargetValidationMetadatas(target.constructor, '', true, false)
    .filter((entry) => entry.propertyName === error.property);
  const limit: FieldLimit = {};
  for (const entry of metadata) {
    const [first, second] = (entry.constraints ?? []) as unknown[];
    switch (entry.name) {
      case 'min':
      case 'arrayMinSize':
      case 'minLength':
        limit.minimum = first as number;
        break;
      case 'max':
      case 'arrayMaxSize':
      case 'maxLength':
        limit.maximum = first as number;
        break;
      case 'isLength':
        limit.minimum = first as number;
        if (second !== undefined) limit.maximum = second as number;
        break;
      case 'isIn':
        limit.allowed = [...(first as unknown[])];
        break;
    }
  }
  return Object.keys(limit).length > 0 ? limit : undefined;
}

function rangeMessage(field: string, names: readonly string[], limit: FieldLimit): string {
  const counted = names.some((name) => name.startsWith('array')) ? ' items' : names.some((name) => /length/i.test(name)) ? ' characters' : '';
  if (limit.minimum !== undefined && limit.maximum !== undefined) return `${field} must be from ${limit.minimum} to ${limit.maximum}${counted}`;
  if (limit.minimum !== undefined) return `${field} must be at least ${limit.minimum}${counted}`;
  return `${field} must be at most ${limit.maximum}${counted}`;
}

/**
 * A body that is not JSON: where it broke, as a person finds it in an editor. Node's own parser
 * names no position for most mistakes, so a parser that reports offsets locates the first one.
 */
export function syntaxErrorOf(body: string): FieldError {
  const errors: ParseError[] = [];
  parse(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const position = errors[0]?.offset ?? body.length;
  const before = body.slice(0, position).split('\n');
  const line = before.length;
  const column = before[before.length - 1]!.length + 1;
  return { in: 'body', field: '', code: 'SYNTAX', messages: [`the body is not valid JSON: it breaks at line ${line}, column ${column}`], line, column };
}
