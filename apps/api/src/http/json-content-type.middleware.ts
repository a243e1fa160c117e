import type { NextFunction, Request, Response } from 'express';
import { ProblemException } from './problem.exception';

/**
 * The API speaks JSON only. Without this, a form-encoded or text body would reach validation as
 * `{}` or raw text and be reported as missing fields instead of the real mistake.
 */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  if (!hasBody(request) || request.is(['application/json', 'application/*+json'])) {
    next();
    return;
  }
  next(
    new ProblemException(415, 'UNSUPPORTED_MEDIA_TYPE', 'request bodies must be application/json', {
      contentType: request.headers['content-type'] ?? null,
    }),
  );
}

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
