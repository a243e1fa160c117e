import type { EncryptedFieldRule } from '@csp/event-store/codec/field-encryption.codec';

/** The event fields that are secret: product keys, bound to (and encrypted under the data key of) their software item. */
export const encryptedFields: readonly EncryptedFieldRule[] = [
  { type: 'KeyGenerated', field: 'productKey', contextOf: (data) => String(data['softwareId']) },
];
