import type { TermDuration } from '../catalogue/sku';
import { addMonths, DAY_MS, toMs } from '../shared/time';

export const TERM_YEARS: Record<TermDuration, number> = { P1Y: 1, P3Y: 3 };

/** Term end = start + term length in calendar years (Feb 29 + 1 year = Feb 28). */
export function termEndFor(termStart: string, termDuration: TermDuration): string {
  return addMonths(termStart, 12 * TERM_YEARS[termDuration]);
}

/** Whole days in a term (365, 366, 1095, 1096): the denominator of proration. */
export function termDaysOf(termStart: string, termEnd: string): number {
  return Math.round((toMs(termEnd) - toMs(termStart)) / DAY_MS);
}
