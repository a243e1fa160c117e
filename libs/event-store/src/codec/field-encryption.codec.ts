import type { EventToAppend, JsonObject, RecordedEvent } from '../event-store.port';
import type { EventCodec } from './event-codec';
import { encryptField } from './field-cipher';

/** Which field of which event type is secret, and the context (e.g. the software id) it is bound to. */
export interface EncryptedFieldRule {
  type: string;
  field: string;
  /** The data key's owner and the ciphertext's additional authenticated data. */
  contextOf(data: JsonObject): string;
}

/** Where the codec gets the data key of a context: created on first use, refused once destroyed. */
export interface DataKeySource {
  dataKeyFor(context: string): Promise<Buffer>;
}

/**
 * Encrypts the secret fields of events before they reach the log, each under its context's own data
 * key, so neither the log nor anything folded from it ever holds them in plain text. Decoding leaves
 * the envelope in place: only the one use case that must hand a secret out decrypts it, explicitly.
 *
 * @example
 *   new FieldEncryptionCodec([{ type: 'KeyGenerated', field: 'productKey', contextOf: (data) => String(data['softwareId']) }], vault)
 */
export class FieldEncryptionCodec implements EventCodec {
  private readonly rules: ReadonlyMap<string, EncryptedFieldRule[]>;

  constructor(
    rules: readonly EncryptedFieldRule[],
    private readonly keys: DataKeySource,
  ) {
    const byType = new Map<string, EncryptedFieldRule[]>();
    for (const rule of rules) byType.set(rule.type, [...(byType.get(rule.type) ?? []), rule]);
    this.rules = byType;
  }

  async encode(_streamName: string, event: EventToAppend): Promise<EventToAppend> {
    const rules = this.rules.get(event.type);
    if (!rules) return event;
    const data: JsonObject = { ...event.data };
    for (const rule of rules) {
      const value = data[rule.field];
      if (typeof value !== 'string') continue;
      const context = rule.contextOf(event.data);
      const envelope = encryptField(value, await this.keys.dataKeyFor(context), context);
      data[rule.field] = { ...envelope };
    }
    return { ...event, data };
  }

  decode(event: RecordedEvent): RecordedEvent {
    return event;
  }
}
