import type { BillingCycle, TermDuration } from '../catalogue/sku';
import { money, type Money } from '../shared/money';
import { monthsAfter } from '../shared/time';
import type { Installment } from '../subscription/subscription.events';
import { TERM_YEARS } from './term.policy';

/** How many installments a cycle splits a term into, and how many months apart they fall. */
export function installmentPlan(termDuration: TermDuration, cycle: BillingCycle): { count: number; monthsApart: number } {
  const years = TERM_YEARS[termDuration];
  switch (cycle) {
    case 'monthly':
      return { count: 12 * years, monthsApart: 1 };
    case 'annual':
      return { count: years, monthsApart: 12 };
    case 'triennial':
    case 'oneTime':
      return { count: 1, monthsApart: 12 * years };
  }
}

/**
 * Splits the term price into equal installments, the remainder cents on the first one,
 * each due a whole number of months after the term start.
 *
 * @example installmentSchedule('2026-01-31T00:00:00.000Z', 'P1Y', 'monthly', money(1000, 'EUR'))
 *   // 12 installments: 87 + 11 × 83 = 1000; due Jan 31, Feb 28, Mar 31, ...
 */
export function installmentSchedule(
  termStart: string,
  termDuration: TermDuration,
  cycle: BillingCycle,
  termPrice: Money,
): Installment[] {
  const { count, monthsApart } = installmentPlan(termDuration, cycle);
  const base = Math.floor(termPrice.amount / count);
  const remainder = termPrice.amount - base * count;
  const dueDates = monthsAfter(
    termStart,
    Array.from({ length: count }, (_, index) => index * monthsApart),
  );
  return dueDates.map((dueAt, index) => ({
    sequence: index + 1,
    dueAt,
    amount: money(index === 0 ? base + remainder : base, termPrice.currency),
  }));
}
