import type { LiveFoldOptions } from '@csp/read-models';

/**
 * How the engine's projections follow the live log: a batch's fold starts at least 3 ms after the
 * last one started. At 500 purchases/s the projection worker committed one or two purchases at a
 * time, each commit writing a page of every table and index a purchase touches (about 33 pages of
 * 8 KiB), and the copies of that write-ahead log into the read store were the tail of the
 * purchases' p99. With the spacing, in eight alternated pairs of the benchmark's HTTP phase
 * (`test/bench/paired.mjs`, twenty-sixth round): p99 at 500/s 22.7 / 24.8 / 21.7 / 31.9 / 22.3 /
 * 27 / 25.9 / 26.8 ms against 26 / 27.8 / 29.8 / 27.7 / 26.9 / 29.5 / 35.3 / 30.5, 190 to 206 KB
 * written per purchase against 207 to 223, projection lag p99 medians 7.4 and 7.3 ms against 7.6
 * and 6.7, purchases and cancellations per second within the spread. An event that comes after a
 * quiet spell is folded at once; one that comes within 3 ms of the last fold waits for the rest.
 */
export const ENGINE_LIVE_FOLD: LiveFoldOptions = { commitSpacingMs: 3 };
