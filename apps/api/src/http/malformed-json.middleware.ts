import type { NextFunction, Request, Response } from 'express';
import { RequestValidationError, syntaxErrorOf } from './request-validation.error';

interface BodyParserError {
  type?: string;
  body?: unknown;
}

/**
 * Turns body-parser's parse failure into a field error naming the line and column where the JSON
 * broke. Registered right after the JSON parser: past this point Nest replaces the error with a
 * bare `BadRequestException` and the body it needs to find the place is gone.
 */
export function locateMalformedJson(error: unknown, _request: Request, _response: Response, next: NextFunction): void {
  const failure = error as BodyParserError | undefined;
  if (failure?.type === 'entity.parse.failed' && typeof failure.body === 'string') {
    next(new RequestValidationError([syntaxErrorOf(failure.body)]));
    return;
  }
  next(error);
}
