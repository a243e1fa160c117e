/** Instants are ISO 8601 UTC strings in events; arithmetic happens on epoch milliseconds. */
export const DAY_MS = 24 * 60 * 60 * 1000;

export function toMs(instant: string): number {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`Not an ISO instant: ${instant}`);
  return ms;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function addDays(instant: string, days: number): string {
  return toIso(toMs(instant) + days * DAY_MS);
}

/**
 * Adds calendar months in UTC, clamping to the last day of the target month
 * (Jan 31 + 1 month = Feb 28/29), keeping the time of day. Always computed from the
 * original instant, so a schedule never drifts (Jan 31, Feb 29, Mar 31, ...).
 */
export function addMonths(instant: string, months: number): string {
  return monthsAfter(instant, [months])[0]!;
}

/**
 * `addMonths(instant, m)` for every `m` of `months`, reading the instant once: a schedule of a
 * dozen installments is computed on every purchase, renewal and fold of a subscription.
 */
export function monthsAfter(instant: string, months: readonly number[]): string[] {
  const startMs = toMs(instant);
  const d = new Date(startMs);
  const year = d.getUTCFullYear();
  const startMonth = d.getUTCMonth();
  const dayOfMonth = d.getUTCDate();
  const timeOfDayMs = startMs - Date.UTC(year, startMonth, dayOfMonth);
  // Every date of the series has the start's time of day, so it is formatted once (a dozen
  // toISOString calls were 4 % of a purchase through the bus). Years that toISOString writes
  // signed (after 9999) and that Date.UTC misreads (before 100) still go through it.
  const timeOfDay = hasFourDigitYear(year) ? toIso(startMs).slice(10) : undefined;
  return months.map((offset) => {
    const month = startMonth + offset;
    const targetYear = year + Math.floor(month / 12);
    const targetMonth = ((month % 12) + 12) % 12;
    const day = Math.min(dayOfMonth, daysInMonth(targetYear, targetMonth));
    if (timeOfDay === undefined || !hasFourDigitYear(targetYear)) return toIso(Date.UTC(targetYear, targetMonth, day) + timeOfDayMs);
    return `${String(targetYear).padStart(4, '0')}-${twoDigits(targetMonth + 1)}-${twoDigits(day)}${timeOfDay}`;
  });
}

function hasFourDigitYear(year: number): boolean {
  return year >= 100 && year <= 9999;
}

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 1) return DAYS_IN_MONTH[month]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** `YYYY-MM` of the month after the one the instant falls in: refunds and credits land there. */
export function nextInvoicePeriod(instant: string): string {
  return invoicePeriodOf(addMonths(firstOfMonth(instant), 1));
}

/** `YYYY-MM` of the month the instant falls in. */
export function invoicePeriodOf(instant: string): string {
  return instant.slice(0, 7);
}

function firstOfMonth(instant: string): string {
  return `${instant.slice(0, 7)}-01T00:00:00.000Z`;
}
