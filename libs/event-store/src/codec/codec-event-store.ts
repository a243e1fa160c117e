import type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  LogSubscription,
  ReadAllOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
} from '../event-store.port';
import type { EventCodec } from './event-codec';

/**
 * Any event store, with every event passing the codec on its way in and out: the store path's
 * seam for upcasting and field encryption.
 *
 * @example
 *   const store = new CodecEventStore(SqliteEventStore.open(file), new UpcastingCodec(upcasters));
 */
export class CodecEventStore implements EventStore {
  /** Present when the wrapped store has it. */
  readonly appendToStreams?: (appends: StreamAppend[]) => Promise<AppendResult[]>;
  /** Present when the wrapped store has it. */
  readonly readAllPages?: (options?: ReadAllOptions) => AsyncIterable<RecordedEvent[]>;

  constructor(
    readonly inner: EventStore,
    private readonly codec: EventCodec,
  ) {
    const appendToStreams = inner.appendToStreams?.bind(inner);
    if (appendToStreams) {
      this.appendToStreams = async (appends) =>
        appendToStreams(
          await Promise.all(
            appends.map(async (append) => ({
              ...append,
              events: await Promise.all(append.events.map((event) => this.codec.encode(append.streamName, event))),
            })),
          ),
        );
    }
    const readAllPages = inner.readAllPages?.bind(inner);
    if (readAllPages) {
      const codec = this.codec;
      this.readAllPages = async function* (options) {
        for await (const page of readAllPages(options)) yield page.map((event) => codec.decode(event));
      };
    }
  }

  async appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    const encoded = await Promise.all(events.map((event) => this.codec.encode(streamName, event)));
    return this.inner.appendToStream(streamName, encoded, options);
  }

  async readStream(streamName: string): Promise<RecordedEvent[]> {
    return (await this.inner.readStream(streamName)).map((event) => this.codec.decode(event));
  }

  async *readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    for await (const event of this.inner.readAll(options)) yield this.codec.decode(event);
  }

  subscribeToAll(options?: SubscribeOptions): LogSubscription {
    const subscription = this.inner.subscribeToAll(options);
    const codec = this.codec;
    return {
      close: () => subscription.close(),
      async *[Symbol.asyncIterator]() {
        for await (const event of subscription) yield codec.decode(event);
      },
    };
  }

  headPosition(): ReturnType<EventStore['headPosition']> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
