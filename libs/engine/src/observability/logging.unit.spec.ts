import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Options } from 'pino-http';
import { buildLoggerParams, REDACTED_PATHS, requestIdOf } from './logging';

function httpOptions(env: Record<string, string>, stdoutIsTty = false): Options {
  return buildLoggerParams({ env, stdoutIsTty }).pinoHttp as Options;
}

describe('buildLoggerParams', () => {
  it('is silent under test, info otherwise, and LOG_LEVEL wins', () => {
    expect(httpOptions({ NODE_ENV: 'test' }).level).toBe('silent');
    expect(httpOptions({ NODE_ENV: 'production' }).level).toBe('info');
    expect(httpOptions({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }).level).toBe('debug');
  });

  it('refuses an unknown LOG_LEVEL', () => {
    expect(() => httpOptions({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
  });

  it('pretty-prints only on a terminal outside production and tests', () => {
    expect(httpOptions({ NODE_ENV: 'development' }, true).transport).toMatchObject({ target: 'pino-pretty' });
    expect(httpOptions({ NODE_ENV: 'production' }, true).transport).toBeUndefined();
    expect(httpOptions({ NODE_ENV: 'test' }, true).transport).toBeUndefined();
    expect(httpOptions({ NODE_ENV: 'development' }, false).transport).toBeUndefined();
  });

  it('keeps a sane incoming request id and replaces an odd one', () => {
    expect(requestIdOf({ headers: { 'x-request-id': 'trace-1' } } as unknown as IncomingMessage)).toBe('trace-1');
    expect(requestIdOf({ headers: { 'x-request-id': 'bad\nid' } } as unknown as IncomingMessage)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf({ headers: {} } as unknown as IncomingMessage)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('redacts credentials, product keys and secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } }, sink);
    logger.info({
      req: { headers: { authorization: 'Bearer eyJ.x.y', cookie: 'sid=1', accept: 'application/json' } },
      productKey: 'AAAAA-BBBBB',
      key: { productKey: 'CCCCC-DDDDD' },
      reveal: { key: { productKey: 'EEEEE-FFFFF' } },
      config: { secret: 's3cr3t' },
    });
    const output = lines.join('');
    expect(output).not.toMatch(/eyJ|sid=1|AAAAA|CCCCC|EEEEE|s3cr3t/);
    expect(output).toContain('application/json');
  });
});
