import type { EventToAppend, JsonObject, RecordedEvent } from '../event-store.port';

/**
 * The one place where event payloads change shape between the domain and the log: fields
 * encrypted on the way in, older payload versions upcast on the way out. Adapters stay unaware of
 * it; `CodecEventStore` applies it around any of them.
 */
export interface EventCodec {
  /** Before an event is written. */
  encode(streamName: string, event: EventToAppend): Promise<EventToAppend>;
  /** After an event is read, before anyone folds it. */
  decode(event: RecordedEvent): RecordedEvent;
}

/** Turns one stored version of an event type's payload into the next. */
export interface Upcaster {
  type: string;
  /** The version this upcaster reads; it writes `fromVersion + 1`. Payloads without a version are version 1. */
  fromVersion: number;
  upcast(data: JsonObject): JsonObject;
}

/** Metadata member that records which payload version an event was written in. */
export const SCHEMA_VERSION = 'schemaVersion';

/**
 * Stamps every event with the current payload version of its type and upcasts older ones when read,
 * so deciders and projections only ever see the current shape. A type without upcasters is version 1
 * and is passed through untouched.
 *
 * @example
 *   const codec = new UpcastingCodec([{ type: 'CustomerRegistered', fromVersion: 1, upcast: (data) => ({ ...data, segment: 'commercial' }) }]);
 */
export class UpcastingCodec implements EventCodec {
  private readonly chains = new Map<string, Upcaster[]>();

  constructor(upcasters: readonly Upcaster[]) {
    for (const upcaster of upcasters) {
      const chain = this.chains.get(upcaster.type) ?? [];
      chain.push(upcaster);
      this.chains.set(upcaster.type, chain);
    }
    for (const [type, chain] of this.chains) {
      chain.sort((a, b) => a.fromVersion - b.fromVersion);
      chain.forEach((upcaster, index) => {
        if (upcaster.fromVersion !== index + 1) throw new Error(`Upcasters of ${type} must go 1→2→3… without gaps`);
      });
    }
  }

  currentVersion(type: string): number {
    return (this.chains.get(type)?.length ?? 0) + 1;
  }

  async encode(_streamName: string, event: EventToAppend): Promise<EventToAppend> {
    if (!this.chains.has(event.type)) return event;
    return { ...event, metadata: { ...event.metadata, [SCHEMA_VERSION]: this.currentVersion(event.type) } };
  }

  decode(event: RecordedEvent): RecordedEvent {
    const chain = this.chains.get(event.type);
    if (!chain) return event;
    const stored = event.metadata[SCHEMA_VERSION];
    let version = typeof stored === 'number' ? stored : 1;
    let data = event.data;
    for (const upcaster of chain) {
      if (upcaster.fromVersion !== version) continue;
      data = upcaster.upcast(data);
      version++;
    }
    return { ...event, data, metadata: { ...event.metadata, [SCHEMA_VERSION]: version } };
  }
}

/** Applies codecs in order on the way in and in reverse order on the way out. */
export class CodecChain implements EventCodec {
  constructor(private readonly codecs: readonly EventCodec[]) {}

  async encode(streamName: string, event: EventToAppend): Promise<EventToAppend> {
    let encoded = event;
    for (const codec of this.codecs) encoded = await codec.encode(streamName, encoded);
    return encoded;
  }

  decode(event: RecordedEvent): RecordedEvent {
    return this.codecs.reduceRight((decoded, codec) => codec.decode(decoded), event);
  }
}
