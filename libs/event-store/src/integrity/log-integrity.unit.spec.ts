import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { chainHash, LENGTH_PREFIXED_LINK, lengthPrefixedChainHash } from './log-integrity';

const field = fc.oneof(fc.string({ unit: 'grapheme' }), fc.bigInt({ min: 0n, max: 2n ** 63n }));

describe('lengthPrefixedChainHash', () => {
  it('is "2:" and the SHA-256 (hex) of the UTF-8 of each part, previous link first, as <length>:<text>', () => {
    const hex = createHash('sha256').update('3:abc', 'utf8').update('1:7', 'utf8').update('7:{"ä":1}', 'utf8').update('0:', 'utf8').digest('hex');
    expect(lengthPrefixedChainHash('abc', [7n, '{"ä":1}', ''])).toBe(`2:${hex}`);
  });

  it('changes with any part, and cannot be matched by moving text from one part to the next', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(field, { minLength: 1, maxLength: 8 }), fc.nat(), fc.string({ minLength: 1 }), (previous, fields, at, extra) => {
        const link = lengthPrefixedChainHash(previous, fields);
        expect(link.startsWith(LENGTH_PREFIXED_LINK)).toBe(true);
        expect(link).toHaveLength(66);
        const index = at % fields.length;
        const changed = fields.map((value, position) => (position === index ? `${String(value)}${extra}` : value));
        expect(lengthPrefixedChainHash(previous, changed)).not.toBe(link);
        expect(lengthPrefixedChainHash(`${previous}${extra}`, fields)).not.toBe(link);
      }),
    );
    expect(lengthPrefixedChainHash('ab', ['c'])).not.toBe(lengthPrefixedChainHash('a', ['bc']));
    expect(lengthPrefixedChainHash('a', ['1:b'])).not.toBe(lengthPrefixedChainHash('a1:', ['b']));
    expect(lengthPrefixedChainHash('x', ['a', ''])).not.toBe(lengthPrefixedChainHash('x', ['', 'a']));
  });

  it('never looks like the JSON-array link of the same parts, whose links stay bare hex', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(field, { maxLength: 8 }), (previous, fields) => {
        const older = chainHash(previous, fields);
        expect(older).toMatch(/^[0-9a-f]{64}$/);
        expect(lengthPrefixedChainHash(previous, fields)).not.toBe(older);
      }),
    );
  });
});
