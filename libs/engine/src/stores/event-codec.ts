import { eventUpcasters } from '@csp/application/event-codec/event-upcasters';
import { encryptedFields } from '@csp/application/event-codec/encrypted-fields';
import { CodecChain, UpcastingCodec, type EventCodec } from '@csp/event-store';
import { FieldEncryptionCodec, type DataKeySource } from '@csp/event-store/codec/field-encryption.codec';

/** How every event passes in and out of the log, in every thread and process of the engine: upcast, then field encryption. */
export function engineEventCodec(dataKeys: DataKeySource): EventCodec {
  return new CodecChain([new UpcastingCodec(eventUpcasters), new FieldEncryptionCodec(encryptedFields, dataKeys)]);
}
