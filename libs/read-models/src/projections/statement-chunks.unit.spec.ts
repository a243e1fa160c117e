import { statementChunks } from './statement-chunks';

const lengths = (count: number, largest?: number): number[] =>
  statementChunks(
    Array.from({ length: count }, (_, index) => index),
    largest,
  ).map((chunk) => chunk.length);

describe('statementChunks', () => {
  it('keeps a list of up to 16 whole and empty lists empty', () => {
    expect(lengths(0)).toEqual([]);
    expect(lengths(1)).toEqual([1]);
    expect(lengths(16)).toEqual([16]);
  });

  it('splits a longer list into power-of-two chunks of 16 to the largest, then the rest', () => {
    expect(lengths(17)).toEqual([16, 1]);
    expect(lengths(200)).toEqual([128, 64, 8]);
    expect(lengths(500, 512)).toEqual([256, 128, 64, 32, 16, 4]);
    expect(lengths(1000)).toEqual([128, 128, 128, 128, 128, 128, 128, 64, 32, 8]);
  });

  it('keeps every item once, in order', () => {
    const items = Array.from({ length: 333 }, (_, index) => `item-${index}`);
    expect(statementChunks(items).flat()).toEqual(items);
  });

  it('uses only the chunk lengths 1 to 16, 32, 64 and 128 for every list from 1 to 2,000 long', () => {
    const seen = new Set<number>();
    for (let count = 1; count <= 2000; count++) for (const length of lengths(count)) seen.add(length);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array.from({ length: 16 }, (_, index) => index + 1), 32, 64, 128]);
  });

  it('refuses a largest chunk that is not a power of two of at least 16', () => {
    expect(() => lengths(10, 100)).toThrow(/power of two/);
    expect(() => lengths(10, 8)).toThrow(/power of two/);
  });
});
