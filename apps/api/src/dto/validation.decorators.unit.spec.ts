import { isPaddedBase64 } from './validation.decorators';

describe('isPaddedBase64', () => {
  it('accepts what Buffer encodes, padded or not needing padding', () => {
    for (const bytes of [1, 2, 3, 4, 5, 6, 300]) {
      expect(isPaddedBase64(Buffer.alloc(bytes, 0xfb).toString('base64'))).toBe(true);
    }
  });

  it('refuses an empty string, a length that is not a multiple of 4, foreign characters and padding inside', () => {
    for (const text of ['', 'QUJD', 'QUJDRA', 'QUJ*', 'QU==QUJD', 'QUJD-_==', 'QUJD===', 'Q===']) {
      const expected = text === 'QUJD';
      expect({ text, valid: isPaddedBase64(text) }).toEqual({ text, valid: expected });
    }
  });

  it('checks a 7 MB attachment in one pass without running out of stack', () => {
    const large = Buffer.alloc(5 * 1024 * 1024, 0x61).toString('base64');
    expect(isPaddedBase64(large)).toBe(true);
    expect(isPaddedBase64(`${large.slice(0, -4)}AB!=`)).toBe(false);
  });
});
