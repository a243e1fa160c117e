import type { FastifyInstance } from 'fastify';
import type { Level, Logger } from 'pino';

/** Routes probed every few seconds by orchestrators and scrapers: a line each would drown the log. */
const UNLOGGED_ROUTES = new Set(['/health', '/health/ready', '/metrics']);

/** A failure of the service is an error, a refused request a warning, the rest information. */
export function requestLogLevel(statusCode: number): Level {
  return statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
}

/**
 * One line per answered request, in pino-http's shape (`req`, `res`, `responseTime` in ms,
 * "request completed" or "request errored"), written only when its level is on: a request whose
 * line is off costs one level check. The logger is looked up per request because nestjs-pino makes
 * its root logger while the app starts, after the HTTP edge is configured; before that, or in an
 * app without it, nothing is logged. Its `req`/`res` serializers and redaction (`logging.ts`) keep
 * the bearer token and cookies out of the line.
 */
export function logRequests(fastify: FastifyInstance, loggerOf: () => Logger | undefined): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const level = requestLogLevel(reply.statusCode);
    const logger = loggerOf();
    if (logger?.isLevelEnabled(level) && !UNLOGGED_ROUTES.has(request.routeOptions.url ?? '')) {
      logger[level](
        { req: request, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
        reply.statusCode >= 500 ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}
