import { configFromEnv } from '../config/engine-config';
import { openEventStore } from './stores';

describe('openEventStore', () => {
  it('refuses a malformed EventStoreDB connection string without repeating its credentials', () => {
    const config = configFromEnv({ EVENTSTORE_CONNECTION_STRING: 'esdb://admin:s3cretPassw0rd@host:2113?tls=maybe&nonsense' });
    let message = '';
    try {
      openEventStore(config);
    } catch (error) {
      message = error instanceof Error ? `${error.message} ${String(error.stack)}` : String(error);
    }
    expect(message).toMatch(/EVENTSTORE_CONNECTION_STRING/);
    expect(message).not.toContain('s3cretPassw0rd');
  });
});
