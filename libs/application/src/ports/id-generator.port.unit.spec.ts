import fc from 'fast-check';
import { v5 as uuidv5, validate, version } from 'uuid';
import { DETERMINISTIC_NAMESPACE, deterministicId } from './id-generator.port';

describe('deterministicId', () => {
  it('is the RFC 9562 name-based UUIDv5 of the joined parts, as the uuid library computes it', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 6 }), (parts) => {
        const id = deterministicId(...parts);
        expect(id).toBe(uuidv5(parts.join('\u241f'), DETERMINISTIC_NAMESPACE));
        expect(validate(id) && version(id)).toBe(5);
      }),
    );
  });

  it('keeps the ids logs already hold: the namespace is part of every id', () => {
    // Computed once with the uuid library's v5, which the service used before.
    expect(deterministicId('order', 'partner-1', 'key-1')).toBe('0cb51e10-85c2-5c83-b29b-d4b4b2c58ac0');
  });
});
