import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ProblemException } from './problem.exception';
import { RequestValidationError } from './request-validation.error';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * A path that is not percent-encoded UTF-8 answers 400. A known path asked with a method it does not serve answers `405 METHOD_NOT_ALLOWED` with `Allow`
 * (RFC 9110), not the `404` Express would give, so a client sees it has the method wrong, not the
 * path. Looks at the route table when the request comes, when every controller is registered.
 */
export function answerWrongMethod(app: NestExpressApplication) {
  const express = app.getHttpAdapter().getInstance() as unknown as { router: { stack: RouteLayer[] } };
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!decodesAsUtf8(request.path)) {
      // Express would throw the URIError from deep inside its router, where it turns into a 500.
      next(new RequestValidationError([{ in: 'path', field: '', messages: ['must be percent-encoded UTF-8'] }]));
      return;
    }
    // The first route serving this path and method ends the search: only a refusal needs the full list.
    const wanted = request.method === 'HEAD' ? 'get' : request.method.toLowerCase();
    const allowed = new Set<string>();
    for (const layer of express.router.stack) {
      // Wildcard routes are middleware Nest mounts for every method (request logging), not endpoints.
      if (!layer.route || layer.route.path.includes('*') || !layer.match(request.path)) continue;
      if (layer.route.methods[wanted]) {
        next();
        return;
      }
      for (const [method, serves] of Object.entries(layer.route.methods)) if (serves && method !== '_all') allowed.add(method.toUpperCase());
    }
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.size === 0) {
      next();
      return;
    }
    const allow = [...allowed].sort().join(', ');
    response.setHeader('Allow', allow);
    next(new ProblemException(405, 'METHOD_NOT_ALLOWED', `${request.method} is not served on ${request.path}; allowed: ${allow}`, { allow: [...allowed].sort() }));
  };
}

function decodesAsUtf8(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
