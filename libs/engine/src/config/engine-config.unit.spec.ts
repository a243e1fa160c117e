import { resolve } from 'node:path';
import { configFromEnv } from './engine-config';

describe('configFromEnv', () => {
  it('reads the scheduler interval in milliseconds', () => {
    expect(configFromEnv({ SCHEDULER_INTERVAL_MS: '5000' }).schedulerIntervalMs).toBe(5000);
    expect(configFromEnv({}).schedulerIntervalMs).toBe(60_000);
  });

  it.each(['60s', '0', '-5', '999', '1.5'])('refuses SCHEDULER_INTERVAL_MS=%s instead of running passes back to back', (value) => {
    expect(() => configFromEnv({ SCHEDULER_INTERVAL_MS: value })).toThrow(/SCHEDULER_INTERVAL_MS/);
  });

  it('takes an empty DATA_DIR as unset: ./data, not the working directory', () => {
    expect(configFromEnv({ DATA_DIR: '' }).dataDir).toBe(resolve('./data'));
    expect(configFromEnv({ DATA_DIR: '/srv/csp' }).dataDir).toBe('/srv/csp');
  });

  it('runs the projection worker at the priority of requests unless PROJECTION_WORKER_NICE lowers it, by 1 to 19 levels', () => {
    expect(configFromEnv({}).projectionWorkerNice).toBe(0);
    expect(configFromEnv({ PROJECTION_WORKER_NICE: '10' }).projectionWorkerNice).toBe(10);
    expect(configFromEnv({ PROJECTION_WORKER_NICE: '19' }).projectionWorkerNice).toBe(19);
    for (const text of ['20', '-1', '2.5', 'low']) {
      expect(() => configFromEnv({ PROJECTION_WORKER_NICE: text })).toThrow(`PROJECTION_WORKER_NICE must be a whole number from 0 to 19, got ${text}`);
    }
    expect(() => configFromEnv({ PROJECTION_WORKER_NICE: '10', PROJECTIONS: 'in-process' })).toThrow('with PROJECTIONS=in-process there is none');
  });

  it('runs projections in a worker thread on the embedded log and in-process on EventStoreDB, unless PROJECTIONS says otherwise', () => {
    expect(configFromEnv({}).projections).toBe('worker');
    expect(configFromEnv({ EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' }).projections).toBe('in-process');
    expect(configFromEnv({ PROJECTIONS: 'in-process' }).projections).toBe('in-process');
    expect(configFromEnv({ PROJECTIONS: 'external' }).projections).toBe('external');
    expect(() => configFromEnv({ PROJECTIONS: 'worker', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' })).toThrow(/PROJECTIONS=worker/);
    expect(() => configFromEnv({ PROJECTIONS: 'threads' })).toThrow(/PROJECTIONS must be/);
  });

  it('reads the token lifetime and the HTTP server limits, with defaults', () => {
    expect(configFromEnv({})).toMatchObject({
      maxTokenLifetimeSeconds: 86_400,
      http: { headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, maxHeaderBytes: 16_384, maxConnections: 1000 },
    });
    const config = configFromEnv({
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '10000',
      HTTP_MAX_HEADER_BYTES: '8192',
      HTTP_MAX_CONNECTIONS: '50',
    });
    expect(config).toMatchObject({
      maxTokenLifetimeSeconds: 3600,
      http: { headersTimeoutMs: 5000, requestTimeoutMs: 10_000, maxHeaderBytes: 8192, maxConnections: 50 },
    });
  });

  it.each([
    ['AUTH_MAX_TOKEN_LIFETIME_SECONDS', '24h'],
    ['HTTP_HEADERS_TIMEOUT_MS', '0'],
    ['HTTP_MAX_HEADER_BYTES', '12.5'],
    ['HTTP_MAX_CONNECTIONS', '-1'],
  ])('refuses %s=%s instead of switching the limit off', (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(new RegExp(name));
  });

  it('refuses a request timeout shorter than the headers timeout', () => {
    expect(() => configFromEnv({ HTTP_HEADERS_TIMEOUT_MS: '30000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });
});
