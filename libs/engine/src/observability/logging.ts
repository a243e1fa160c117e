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
const UNLOGGED_ROUTES = new Set(['/health', '/metrics']);

export interface LoggingInput {
  env: Readonly<Record<string, string | undefined>>;
  stdoutIsTty: boolean;
}

/**
 * nestjs-pino parameters: JSON lines for machines; pino-pretty only for a developer's terminal.
 * `LOG_LEVEL` wins; otherwise `info`, or `silent` under Jest (which sets NODE_ENV=test).
 */
export function buildLoggerParams({ env, stdoutIsTty }: LoggingInput): Params {
  const pretty = stdoutIsTty && env.NODE_ENV !== 'production' && env.NODE_ENV !== 'test';
  return {
    pinoHttp: {
      level: logLevel(env),
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      customLogLevel: (_request, response, error) =>
        error !== undefined || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (request) => UNLOGGED_ROUTES.has(request.url ?? '') },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}),
    },
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
