import fc from 'fast-check';
import { v5 as uuidv5, v7 as uuidv7, validate, version } from 'uuid';
import { DETERMINISTIC_NAMESPACE, deterministicId, deterministicIdBeside } from './id-generator.port';

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

describe('deterministicIdBeside', () => {
  const timeOrdered = fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((msecs) => uuidv7({ msecs }));
  const parts = fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 4 });

  it('is a UUIDv8 with its origin time prefix and the name-based hash of origin and parts after it', () => {
    fc.assert(
      fc.property(timeOrdered, parts, (origin, rest) => {
        const id = deterministicIdBeside(origin, ...rest);
        expect(validate(id) && version(id)).toBe(8);
        expect(id.slice(0, 13)).toBe(origin.slice(0, 13));
        // Past the version digit it is the plain deterministic id of the same name.
        const plain = deterministicId(origin, ...rest);
        expect(id.slice(15)).toBe(plain.slice(15));
        expect(id.charAt(14)).toBe('8');
        expect(plain.charAt(14)).toBe('5');
        expect(deterministicIdBeside(origin, ...rest)).toBe(id);
      }),
    );
  });

  it('sorts as its origins sort, so the streams it names are started side by side', () => {
    fc.assert(
      fc.property(timeOrdered, timeOrdered, (first, second) => {
        fc.pre(first.slice(0, 13) !== second.slice(0, 13));
        const [earlier, later] = first < second ? [first, second] : [second, first];
        expect(deterministicIdBeside(earlier, 'line', '9') < deterministicIdBeside(later, 'line', '1')).toBe(true);
      }),
    );
  });

  it('tells the lines of one origin apart', () => {
    const origin = uuidv7();
    const lines = Array.from({ length: 50 }, (_, index) => deterministicIdBeside(origin, 'line', String(index + 1)));
    expect(new Set(lines).size).toBe(50);
  });

  it('refuses an origin that is not a UUID', () => {
    expect(() => deterministicIdBeside('order-1', 'line', '1')).toThrow('Not a UUID');
  });
});
