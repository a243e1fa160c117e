import type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  LogPosition,
  LogSubscription,
  ReadAllOptions,
  RecordedEvent,
  SubscribeOptions,
} from '@csp/event-store';

/** Passes every call to the store it wraps: a test's wrapper overrides only what it watches or breaks. */
export class ForwardingEventStore implements EventStore {
  constructor(protected readonly inner: EventStore) {}

  appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    return this.inner.appendToStream(streamName, events, options);
  }

  readStream(streamName: string): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamName);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): LogSubscription {
    return this.inner.subscribeToAll(options);
  }

  headPosition(): Promise<LogPosition | undefined> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
