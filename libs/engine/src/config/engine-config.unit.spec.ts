import { configFromEnv } from './engine-config';

describe('configFromEnv', () => {
  it('reads the scheduler interval in milliseconds', () => {
    expect(configFromEnv({ SCHEDULER_INTERVAL_MS: '5000' }).schedulerIntervalMs).toBe(5000);
    expect(configFromEnv({}).schedulerIntervalMs).toBe(60_000);
  });

  it.each(['60s', '0', '-5', '999', '1.5'])('refuses SCHEDULER_INTERVAL_MS=%s instead of running passes back to back', (value) => {
    expect(() => configFromEnv({ SCHEDULER_INTERVAL_MS: value })).toThrow(/SCHEDULER_INTERVAL_MS/);
  });

  it.each(['70000', 'http', '-1'])('refuses PORT=%s', (value) => {
    expect(() => configFromEnv({ PORT: value })).toThrow(/PORT/);
  });
});
