import { createDecipheriv, randomBytes } from 'node:crypto';
import type { EventToAppend, RecordedEvent } from '../event-store.port';
import { FieldEncryptionCodec, type DataKeySource } from './field-encryption.codec';
import { isEncryptedField, type EncryptedField } from './field-cipher';

class RecordingKeys implements DataKeySource {
  readonly asked: string[] = [];
  readonly keys = new Map<string, Buffer>();
  async dataKeyFor(context: string): Promise<Buffer> {
    this.asked.push(context);
    if (context === 'destroyed') throw new Error('destroyed');
    const key = this.keys.get(context) ?? randomBytes(32);
    this.keys.set(context, key);
    return key;
  }
}

const rules = [{ type: 'KeyGenerated', field: 'productKey', contextOf: (data: Record<string, unknown>) => String(data['softwareId']) }];

function event(type: string, data: EventToAppend['data']): EventToAppend {
  return { id: 'e-1', type, data, metadata: { userId: 'u-1' } };
}

/** Decrypts with node:crypto directly, so a wrong envelope format in the cipher cannot pass its own test. */
function open(field: EncryptedField, key: Buffer, context: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(field.iv, 'base64url'));
  decipher.setAAD(Buffer.from(`csp:field:${context}`, 'utf8'));
  decipher.setAuthTag(Buffer.from(field.tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(field.ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

describe('FieldEncryptionCodec', () => {
  it('encrypts the configured field under the data key of its context, leaving the rest of the event as it was', async () => {
    const keys = new RecordingKeys();
    const codec = new FieldEncryptionCodec(rules, keys);
    const original = event('KeyGenerated', { softwareId: 'sub-1', keyId: 'k-1', productKey: 'BCDFG-HJKMP-QRTVW-XY234-6789B' });
    const encoded = await codec.encode('software-sub-1', original);
    expect(keys.asked).toEqual(['sub-1']);
    expect(encoded).toMatchObject({ id: 'e-1', type: 'KeyGenerated', metadata: { userId: 'u-1' }, data: { softwareId: 'sub-1', keyId: 'k-1' } });
    const field = encoded.data['productKey'];
    expect(isEncryptedField(field)).toBe(true);
    expect(JSON.stringify(encoded)).not.toContain('BCDFG');
    expect(open(field as unknown as EncryptedField, keys.keys.get('sub-1')!, 'sub-1')).toBe('BCDFG-HJKMP-QRTVW-XY234-6789B');
    expect(original.data['productKey']).toBe('BCDFG-HJKMP-QRTVW-XY234-6789B');
  });

  it('passes other event types through untouched and asks for no key', async () => {
    const keys = new RecordingKeys();
    const other = event('KeyRevealed', { softwareId: 'sub-1', productKey: 'not secret here' });
    expect(await new FieldEncryptionCodec(rules, keys).encode('software-sub-1', other)).toBe(other);
    expect(keys.asked).toEqual([]);
  });

  it('refuses to write when the context has no data key any more', async () => {
    const codec = new FieldEncryptionCodec(rules, new RecordingKeys());
    await expect(codec.encode('software-destroyed', event('KeyGenerated', { softwareId: 'destroyed', productKey: 'X' }))).rejects.toThrow('destroyed');
  });

  it('leaves the envelope in place when reading: only an explicit reveal decrypts', () => {
    const recorded = { id: 'e-1', type: 'KeyGenerated', data: { productKey: { alg: 'A256GCM', iv: 'a', tag: 'b', ciphertext: 'c' } } } as unknown as RecordedEvent;
    expect(new FieldEncryptionCodec(rules, new RecordingKeys()).decode(recorded)).toBe(recorded);
  });
});
