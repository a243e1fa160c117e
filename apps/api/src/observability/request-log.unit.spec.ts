import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { pinoHttp, type Options } from 'pino-http';
import { buildLoggerParams } from '@csp/engine/observability/logging';
import { logRequests, requestLogLevel } from './request-log';

/** The root logger nestjs-pino makes from the service's parameters, writing into `lines`. */
function serviceLogger(logLevel: string, lines: Record<string, unknown>[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>));
      done();
    },
  });
  const options = buildLoggerParams({ env: { NODE_ENV: 'production', LOG_LEVEL: logLevel }, stdoutIsTty: false }).pinoHttp as Options;
  return pinoHttp(options, sink).logger;
}

async function appLogging(logger: Logger | undefined): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: () => 'request-7' });
  logRequests(app, () => logger);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/health/ready', async () => ({ status: 'ok' }));
  app.get('/broken', async () => {
    throw new Error('boom');
  });
  await app.ready();
  return app;
}

describe('request lines', () => {
  it('maps statuses to levels: 5xx error, 4xx warn, the rest info', () => {
    expect([200, 201, 304, 399, 400, 404, 499, 500, 503].map(requestLogLevel)).toEqual([
      'info', 'info', 'info', 'info', 'warn', 'warn', 'warn', 'error', 'error',
    ]);
  });

  it('writes one line per request with its id, method, url, status and time, without the bearer token', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = await appLogging(serviceLogger('info', lines));
    await app.inject({ method: 'GET', url: '/ok?x=1', headers: { authorization: 'Bearer eyJ.secret.token', cookie: 'sid=42', 'user-agent': 'curl/8' } });
    await app.close();

    expect(lines).toHaveLength(1);
    const [line] = lines as [{ level: number; msg: string; responseTime: unknown; req: Record<string, unknown>; res: Record<string, unknown> }];
    expect(line).toMatchObject({ level: 30, msg: 'request completed', req: { id: 'request-7', method: 'GET', url: '/ok?x=1' }, res: { statusCode: 200 } });
    expect(typeof line.responseTime).toBe('number');
    expect(line.req['headers']).toMatchObject({ authorization: '[REDACTED]', cookie: '[REDACTED]', 'user-agent': 'curl/8' });
    expect(JSON.stringify(lines)).not.toMatch(/eyJ|sid=42/);
  });

  it('logs refusals as warnings and failures as errors, and leaves the health probes out', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = await appLogging(serviceLogger('info', lines));
    await app.inject({ method: 'GET', url: '/health' });
    await app.inject({ method: 'GET', url: '/health/ready?verbose=1' });
    await app.inject({ method: 'GET', url: '/missing' });
    await app.inject({ method: 'GET', url: '/broken' });
    await app.close();

    expect(lines.map(({ level, msg, res }) => [level, msg, (res as { statusCode: number }).statusCode])).toEqual([
      [40, 'request completed', 404],
      [50, 'request errored', 500],
    ]);
  });

  it('writes nothing below the configured level, and nothing before the service has its logger', async () => {
    const lines: Record<string, unknown>[] = [];
    const atWarn = await appLogging(serviceLogger('warn', lines));
    await atWarn.inject({ method: 'GET', url: '/ok' });
    await atWarn.inject({ method: 'GET', url: '/missing' });
    await atWarn.close();
    expect(lines.map(({ msg, res }) => [msg, (res as { statusCode: number }).statusCode])).toEqual([['request completed', 404]]);

    const withoutLogger = await appLogging(undefined);
    expect((await withoutLogger.inject({ method: 'GET', url: '/ok' })).statusCode).toBe(200);
    await withoutLogger.close();
  });
});
