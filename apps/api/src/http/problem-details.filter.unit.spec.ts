import { Logger, type LoggerService } from '@nestjs/common';
import Fastify from 'fastify';
import { ProblemDetailsFilter } from './problem-details.filter';

describe('ProblemDetailsFilter logs', () => {
  const logged: unknown[][] = [];
  const capture: LoggerService = {
    log: (...args: unknown[]) => logged.push(['log', ...args]),
    warn: (...args: unknown[]) => logged.push(['warn', ...args]),
    error: (...args: unknown[]) => logged.push(['error', ...args]),
  };

  beforeEach(() => {
    logged.length = 0;
    Logger.overrideLogger(capture);
  });
  afterEach(() => Logger.overrideLogger(new Logger()));

  it('logs an unexpected failure under the request id, with the cause the answer leaves out', async () => {
    const app = Fastify({ genReqId: () => 'request-42' });
    app.get('/fails', (_request, reply) => new ProblemDetailsFilter().answer(new Error('connection to db.internal refused'), reply));
    const answered = await app.inject({ method: 'GET', url: '/fails' });
    await app.close();

    expect(answered.statusCode).toBe(500);
    expect(answered.body).not.toContain('db.internal');
    expect(logged).toHaveLength(1);
    const [level, fields, message] = logged[0] as [string, { reqId: string; err: Error }, string];
    expect(level).toBe('error');
    expect(fields.reqId).toBe('request-42');
    expect(fields.err.message).toBe('connection to db.internal refused');
    expect(message).toMatch(/unexpected Error/);
  });
});
