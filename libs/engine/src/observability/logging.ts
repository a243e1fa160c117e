import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { levels, LevelWithSilent } from 'pino';

/**
 * Secrets that must never reach a log line. pino's paths are not recursive, so product keys are
 * listed at the depths our log calls use (`{ productKey }`, `{ key: { productKey } }`, ...).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'productKey',
  '*.productKey',
  '*.*.productKey',
  'secret',
  '*.secret',
  '*.*.secret',
];

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** A caller's id is kept for cross-service tracing only if it cannot smuggle odd characters into logs. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface LoggingInput {
  env: Readonly<Record<string, string | undefined>>;
  stdoutIsTty: boolean;
}

/**
 * nestjs-pino parameters: JSON lines for machines; pino-pretty only for a developer's terminal.
 * `LOG_LEVEL` wins; otherwise `info`, or `silent` under Jest (which sets NODE_ENV=test).
 *
 * nestjs-pino makes its root logger from `pinoHttp` (with pino-http's `req`/`res`/`err`
 * serializers) but applies pino-http's middleware to no route (`forRoutes: []`): that middleware
 * made every request a child logger, serialising and redacting its headers whether or not a line
 * was written, and bound it through AsyncLocalStorage, whose promise hooks then slowed every
 * `await` of the request. The api's request lines come from a Fastify hook instead
 * (`apps/api/src/observability/request-log.ts`); "Thirtieth round" in docs/benchmark-history.md.
 */
export function buildLoggerParams({ env, stdoutIsTty }: LoggingInput): Params {
  const pretty = stdoutIsTty && env.NODE_ENV !== 'production' && env.NODE_ENV !== 'test';
  return {
    pinoHttp: {
      level: logLevel(env),
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}),
    },
    forRoutes: [],
  };
}

function logLevel(env: LoggingInput['env']): LevelWithSilent {
  const configured = env.LOG_LEVEL;
  if (configured === undefined || configured === '') return env.NODE_ENV === 'test' ? 'silent' : 'info';
  if (configured === 'silent' || configured in levels.values) return configured as LevelWithSilent;
  throw new Error(`LOG_LEVEL must be one of ${Object.keys(levels.values).join(', ')}, silent; got "${configured}"`);
}

/** The id a request is logged under and answered with: the caller's `X-Request-Id` when it is acceptable, a fresh one otherwise. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
