/** Lists up to this long go in one statement as they are: a live batch is mostly this small. */
const EXACT_UP_TO = 16;

/** The most rows (or ids) one statement carries by default: well under SQLite's and PostgreSQL's limits on bound values. */
export const LARGEST_CHUNK = 128;

/**
 * Splits `items` for multi-row statements (`VALUES (...), (...)`, `IN (...)`) so that their SQL takes
 * few shapes: a list of up to 16 goes as it is, a longer one in power-of-two chunks of 16 to `largest`
 * and a short rest. Every distinct SQL text stays prepared in the read store's statement cache, and a
 * prepared multi-row statement holds 50 to 100 KiB of SQLite's memory: with one shape per list
 * length, the projection worker kept 450 of them after one benchmark run (and up to the cache's
 * 1,000 in a longer one); with these chunks each statement has at most about 20 shapes.
 *
 * @example
 *   statementChunks(Array.from({ length: 200 }, (_, i) => i)).map((chunk) => chunk.length); // [128, 64, 8]
 */
export function statementChunks<T>(items: readonly T[], largest = LARGEST_CHUNK): T[][] {
  if (!Number.isInteger(Math.log2(largest)) || largest < EXACT_UP_TO) {
    throw new Error(`statementChunks: largest must be a power of two of at least ${EXACT_UP_TO}, not ${largest}`);
  }
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; ) {
    const left = items.length - start;
    let size = left <= EXACT_UP_TO ? left : largest;
    while (size > left) size /= 2;
    chunks.push(items.slice(start, start + size));
    start += size;
  }
  return chunks;
}
