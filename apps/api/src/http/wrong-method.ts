import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException } from './problem.exception';
import { pathOf } from './request-path';

interface ServedPath {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * A known path asked with a method it does not serve answers `405 METHOD_NOT_ALLOWED` with `Allow`
 * (RFC 9110), not the `404` Fastify would give, so a client sees it has the method wrong, not the
 * path. Only requests no route serves pay for the look-up.
 */
export function answerWrongMethod(fastify: FastifyInstance): void {
  const served = new Map<string, ServedPath>();
  fastify.addHook('onRoute', (route) => {
    // Wildcard routes serve static files (the docs' assets), not endpoints of the contract.
    if (route.url.includes('*')) return;
    const path = served.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) path.methods.add(method.toUpperCase());
    served.set(route.url, path);
  });
  // Callback style: an async hook would cost every request a promise, 404 or not.
  fastify.addHook('onRequest', (request, reply, done) => done(request.is404 ? wrongMethod(request, reply, served) : undefined));
}

function wrongMethod(request: FastifyRequest, reply: FastifyReply, served: Map<string, ServedPath>): ProblemException | undefined {
  const path = pathOf(request.url);
  const allowed = new Set<string>();
  for (const candidate of served.values()) if (candidate.pattern.test(path)) for (const method of candidate.methods) allowed.add(method);
  if (allowed.size === 0) return undefined;
  if (allowed.has('GET')) allowed.add('HEAD');
  const allow = [...allowed].sort();
  reply.header('Allow', allow.join(', '));
  return new ProblemException(405, 'METHOD_NOT_ALLOWED', `${request.method} is not served on ${path}; allowed: ${allow.join(', ')}`, { allow });
}

/** `/v1/customers/:customerId` matches `/v1/customers/<one segment>`, with or without a trailing slash. */
function patternOf(url: string): RegExp {
  const segments = url
    .replace(/\/$/, '')
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}/?$`);
}
