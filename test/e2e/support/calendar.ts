/**
 * Calendar arithmetic for the e2e test oracles, from SPEC.md: instants, term ends, invoice months,
 * installment plans and what a moved clock implies.
 *
 * Written here on purpose without the domain's own helpers (its month arithmetic, installment split,
 * proration, ...), so a wrong rule in production code cannot make its own test pass.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

export type InstallmentCycle = 'monthly' | 'annual' | 'triennial';

export function addMs(instant: string, ms: number): string {
  return new Date(Date.parse(instant) + ms).toISOString();
}

export function addDays(instant: string, days: number): string {
  return addMs(instant, days * DAY_MS);
}

/** Calendar months in UTC, clamped to the month end (Jan 31 + 1 month = Feb 28/29), time of day kept. */
export function addMonths(instant: string, months: number): string {
  const d = new Date(instant);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(year, month, Math.min(d.getUTCDate(), daysInMonth), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
  ).toISOString();
}

/** start + n calendar years in UTC (Feb 29 + 1 year = Feb 28). */
export function addYears(instant: string, years: number): string {
  return addMonths(instant, 12 * years);
}

/** `YYYY-MM` of the month after the one `instant` falls in. */
export function nextMonth(instant: string): string {
  const d = new Date(instant);
  const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return next.toISOString().slice(0, 7);
}

/** Installments of one term: monthly 12 per year, annual 1 per year, triennial 1; remainder cents on the first. */
export function installmentsOf(termPrice: number, years: number, cycle: InstallmentCycle): number[] {
  const count = cycle === 'monthly' ? 12 * years : cycle === 'annual' ? years : 1;
  const base = Math.floor(termPrice / count);
  return Array.from({ length: count }, (_, index) => (index === 0 ? termPrice - base * (count - 1) : base));
}

export function monthsBetweenInstallments(years: number, cycle: InstallmentCycle): number {
  return cycle === 'monthly' ? 1 : cycle === 'annual' ? 12 : 12 * years;
}

export interface CalendarOutcome {
  /** Term numbers started by a renewal (2, 3, ...). */
  renewals: number[];
  expiredAt?: string;
  /** `term.sequence` of every installment due by `now`. */
  installments: string[];
  termNumber: number;
}

/**
 * SPEC "Terms, renewal, expiry": term start = purchase, term end = start + term length, the next
 * term starts at the previous end; installments fall due every `gap` months from each term start;
 * at term end an autorenewing subscription renews, otherwise it expires.
 */
export function calendarUntil(input: {
  purchasedAt: string;
  years: number;
  cycle: InstallmentCycle;
  autoRenew: boolean;
  now: string;
}): CalendarOutcome {
  const now = Date.parse(input.now);
  const count = installmentsOf(1_000_000, input.years, input.cycle).length;
  const gap = monthsBetweenInstallments(input.years, input.cycle);
  const outcome: CalendarOutcome = { renewals: [], installments: [], termNumber: 1 };
  let start = new Date(input.purchasedAt).toISOString();
  for (let term = 1; ; term++) {
    outcome.termNumber = term;
    for (let index = 0; index < count; index++) {
      if (Date.parse(addMonths(start, index * gap)) <= now) outcome.installments.push(`${term}.${index + 1}`);
    }
    const end = addMonths(start, 12 * input.years);
    if (Date.parse(end) > now) return outcome;
    if (!input.autoRenew) {
      outcome.expiredAt = end;
      return outcome;
    }
    outcome.renewals.push(term + 1);
    start = end;
  }
}
