import type { AppendOptions, AppendResult, EventStore, EventToAppend } from '@csp/event-store';
import { EventTooLargeError } from '@csp/event-store';
import { EsdbEventStore } from '@csp/event-store/esdb';
import { E2eApp } from '../support/e2e-harness';
import { newTenantId } from './support/e2e-support';

/** EventStoreDB's default MaxAppendSize, which the e2e test server runs with. */
const ONE_MIB = 1024 * 1024;

/**
 * The real store, with the events of appends to one stream made larger than EventStoreDB takes in one
 * write. HTTP validation bounds every field, so no request can carry that much by itself.
 */
class OversizedAppends implements EventStore {
  oversizedStream: string | undefined;

  constructor(private readonly inner: EventStore) {}

  appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    if (streamName !== this.oversizedStream) return this.inner.appendToStream(streamName, events, options);
    // On EventStoreDB the real adapter meets the padded events and must refuse them itself; the
    // embedded store has no per-write limit, so there the adapter's refusal is what is injected.
    if (!(this.inner instanceof EsdbEventStore)) {
      return Promise.reject(new EventTooLargeError(streamName, ONE_MIB + 1, ONE_MIB));
    }
    const padded = events.map((event) => ({ ...event, metadata: { ...event.metadata, padding: 'x'.repeat(ONE_MIB) } }));
    return this.inner.appendToStream(streamName, padded, options);
  }

  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  subscribeToAll: EventStore['subscribeToAll'] = (...args) => this.inner.subscribeToAll(...args);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  close: EventStore['close'] = () => this.inner.close();
}

describe('a command whose events are too large for one write', () => {
  let app: E2eApp;
  let store: OversizedAppends;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start({ wrapEventStore: (inner) => (store = new OversizedAppends(inner)) });
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  it('is answered 413 EVENT_TOO_LARGE as problem+json, and nothing is written', async () => {
    const id = newTenantId();
    store.oversizedStream = `customer-${id}`;

    const response = await app
      .http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id, companyName: 'Large Ltd', domain: `c${id.slice(0, 8)}.onmicrosoft.com`, country: 'DE' });

    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 413, code: 'EVENT_TOO_LARGE', maxBytes: ONE_MIB });
    expect(response.headers['x-log-position']).toBeUndefined();
    expect(await app.eventStore.readStream(`customer-${id}`)).toEqual([]);
  });
});
