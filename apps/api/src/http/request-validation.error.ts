import type { ValidationError } from 'class-validator';

/** Where the offending value was (OpenAPI's parameter locations), so `id` in a path and in a body differ. */
export type FieldLocation = 'body' | 'query' | 'path' | 'header';

export interface FieldError {
  in: FieldLocation;
  /** Dotted path with array indexes, e.g. `lineItems[0].quantity`; empty for the body as a whole. */
  field: string;
  messages: string[];
}

/** Becomes `400 VALIDATION_FAILED` with `errors: FieldError[]`. */
export class RequestValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`invalid request: ${errors.map((error) => error.field || error.in).join(', ')}`);
    this.name = 'RequestValidationError';
  }
}

export function fieldErrorsOf(errors: readonly ValidationError[], location: FieldLocation): FieldError[] {
  return collect(errors, location, '', false);
}

function collect(errors: readonly ValidationError[], location: FieldLocation, parent: string, parentIsArray: boolean): FieldError[] {
  return errors.flatMap((error) => {
    const field = parentIsArray ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    const own: FieldError[] = error.constraints ? [{ in: location, field, messages: Object.values(error.constraints) }] : [];
    return own.concat(collect(error.children ?? [], location, field, Array.isArray(error.value)));
  });
}
