import { money } from '../shared/money';
import fc from 'fast-check';
import { addMonths, monthsAfter, nextInvoicePeriod } from '../shared/time';
import {
  daysLeftUntil,
  isWithinPerpetualCancellationWindow,
  isWithinSubscriptionCancellationWindow,
} from './cancellation-window.policy';
import { isCancellableProduct } from './cancellability.policy';
import { installmentSchedule } from './installments.policy';
import { proratedRefund } from './proration.policy';
import { isLegacyPurchase } from './purchase-date.policy';
import { pricesIncludeTax } from './tax.policy';
import { termDaysOf, termEndFor } from './term.policy';

const termStart = '2026-03-01T10:00:00.000Z';

describe('purchase date cutoff', () => {
  it('treats 2021-10-14T00:00Z itself as the new regime', () => {
    expect(isLegacyPurchase('2021-10-14T00:00:00.000Z')).toBe(false);
  });
  it('treats one millisecond earlier as legacy', () => {
    expect(isLegacyPurchase('2021-10-13T23:59:59.999Z')).toBe(true);
  });
});

describe('tax inclusion', () => {
  it.each(['AU', 'BR'])('prices in %s include tax', (country) => expect(pricesIncludeTax(country)).toBe(true));
  it.each(['DE', 'US', 'GB', 'NZ', 'PT'])('prices in %s exclude tax', (country) => expect(pricesIncludeTax(country)).toBe(false));
});

describe('subscription cancellation window: termStart <= t < termStart + 7 days', () => {
  it('is open at the term start', () => expect(isWithinSubscriptionCancellationWindow(termStart, termStart)).toBe(true));
  it('is open one millisecond before 7 days', () =>
    expect(isWithinSubscriptionCancellationWindow(termStart, '2026-03-08T09:59:59.999Z')).toBe(true));
  it('is closed at exactly 7 days', () =>
    expect(isWithinSubscriptionCancellationWindow(termStart, '2026-03-08T10:00:00.000Z')).toBe(false));
  it('is closed before the term starts', () =>
    expect(isWithinSubscriptionCancellationWindow(termStart, '2026-03-01T09:59:59.999Z')).toBe(false));
});

describe('perpetual cancellation window: t < purchasedAt + 30 days', () => {
  it('is open one millisecond before 30 days', () =>
    expect(isWithinPerpetualCancellationWindow(termStart, '2026-03-31T09:59:59.999Z')).toBe(true));
  it('is closed at exactly 30 days', () =>
    expect(isWithinPerpetualCancellationWindow(termStart, '2026-03-31T10:00:00.000Z')).toBe(false));
  it('counts the days left, a started day as one', () => {
    expect(daysLeftUntil('2026-03-31T10:00:00.000Z', '2026-03-01T10:00:00.000Z')).toBe(30);
    expect(daysLeftUntil('2026-03-31T10:00:00.000Z', '2026-03-31T09:00:00.000Z')).toBe(1);
    expect(daysLeftUntil('2026-03-31T10:00:00.000Z', '2026-03-31T10:00:00.000Z')).toBe(0);
  });
});

describe('RedHat and SUSE are never cancellable', () => {
  it.each(['RedHat', 'SUSE'])('%s is refused even when the catalogue says cancellable', (publisher) =>
    expect(isCancellableProduct({ publisher, cancellable: true })).toBe(false));
  it('a Microsoft product follows the catalogue', () => {
    expect(isCancellableProduct({ publisher: 'Microsoft', cancellable: true })).toBe(true);
    expect(isCancellableProduct({ publisher: 'Microsoft', cancellable: false })).toBe(false);
  });
});

describe('terms', () => {
  it('a P1Y term over a leap day has 366 days', () => {
    const end = termEndFor('2027-06-01T00:00:00.000Z', 'P1Y');
    expect(end).toBe('2028-06-01T00:00:00.000Z');
    expect(termDaysOf('2027-06-01T00:00:00.000Z', end)).toBe(366);
  });
  it('a term starting on Feb 29 ends on Feb 28', () =>
    expect(termEndFor('2028-02-29T12:00:00.000Z', 'P1Y')).toBe('2029-02-28T12:00:00.000Z'));
  it('a P3Y term has 1095 or 1096 days', () =>
    expect(termDaysOf('2026-01-01T00:00:00.000Z', termEndFor('2026-01-01T00:00:00.000Z', 'P3Y'))).toBe(1096));
});

describe('installment schedule', () => {
  it('monthly: 12 installments, remainder cents on the first, summing to the price', () => {
    const schedule = installmentSchedule(termStart, 'P1Y', 'monthly', money(1000, 'EUR'));
    expect(schedule).toHaveLength(12);
    expect(schedule[0]!.amount.amount).toBe(87);
    expect(schedule.slice(1).every((installment) => installment.amount.amount === 83)).toBe(true);
    expect(schedule.reduce((sum, installment) => sum + installment.amount.amount, 0)).toBe(1000);
  });
  it('monthly from Jan 31 clamps to month ends without drifting', () => {
    const dueDates = installmentSchedule('2028-01-31T00:00:00.000Z', 'P1Y', 'monthly', money(1200, 'EUR')).map(
      (installment) => installment.dueAt.slice(0, 10),
    );
    expect(dueDates.slice(0, 4)).toEqual(['2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30']);
  });
  it('annual on a P3Y term: 3 installments a year apart', () => {
    const schedule = installmentSchedule(termStart, 'P3Y', 'annual', money(300_001, 'EUR'));
    expect(schedule.map((installment) => [installment.dueAt, installment.amount.amount])).toEqual([
      ['2026-03-01T10:00:00.000Z', 100_001],
      ['2027-03-01T10:00:00.000Z', 100_000],
      ['2028-03-01T10:00:00.000Z', 100_000],
    ]);
  });
  it('triennial: one installment of the whole price at the start', () =>
    expect(installmentSchedule(termStart, 'P3Y', 'triennial', money(300_001, 'EUR'))).toEqual([
      { sequence: 1, dueAt: termStart, amount: money(300_001, 'EUR') },
    ]));
});

describe('prorated refund', () => {
  const term = { termStart: '2026-01-01T00:00:00.000Z', termEnd: '2027-01-01T00:00:00.000Z', termPrice: money(365_000, 'EUR') };
  it('counts at least one used day at the very start', () => {
    const result = proratedRefund({ ...term, chargedForTerm: money(365_000, 'EUR'), at: term.termStart });
    expect(result).toMatchObject({ usedDays: 1, termDays: 365, usedCost: money(1000, 'EUR'), refund: money(364_000, 'EUR') });
  });
  it('counts a started day as used: 1 day + 1 ms = 2 days', () => {
    expect(proratedRefund({ ...term, chargedForTerm: term.termPrice, at: '2026-01-02T00:00:00.000Z' }).usedDays).toBe(1);
    expect(proratedRefund({ ...term, chargedForTerm: term.termPrice, at: '2026-01-02T00:00:00.001Z' }).usedDays).toBe(2);
  });
  it('rounds the used cost half to even', () => {
    // 1 × 3 / 2 = 1.5 → 2 ; 1 × 5 / 2 = 2.5 → 2 (even)
    const twoDayTerm = { termStart: '2026-01-01T00:00:00.000Z', termEnd: '2026-01-03T00:00:00.000Z' };
    expect(proratedRefund({ ...twoDayTerm, termPrice: money(3, 'EUR'), chargedForTerm: money(3, 'EUR'), at: twoDayTerm.termStart }).usedCost.amount).toBe(2);
    expect(proratedRefund({ ...twoDayTerm, termPrice: money(5, 'EUR'), chargedForTerm: money(5, 'EUR'), at: twoDayTerm.termStart }).usedCost.amount).toBe(2);
  });
  it('never refunds below zero when less was charged than used', () => {
    const result = proratedRefund({ ...term, chargedForTerm: money(500, 'EUR'), at: '2026-01-05T00:00:00.000Z' });
    expect(result.usedCost.amount).toBe(4000);
    expect(result.refund.amount).toBe(0);
  });
});

describe('calendar helpers', () => {
  it('adds months clamping to the month end', () => {
    expect(addMonths('2026-01-31T08:00:00.000Z', 1)).toBe('2026-02-28T08:00:00.000Z');
    expect(addMonths('2026-12-15T00:00:00.000Z', 1)).toBe('2027-01-15T00:00:00.000Z');
  });
  it('adds months across leap years and to the last day of February', () => {
    expect(monthsAfter('2024-01-31T23:59:59.999Z', [1, 13, 25, 49])).toEqual([
      '2024-02-29T23:59:59.999Z',
      '2025-02-28T23:59:59.999Z',
      '2026-02-28T23:59:59.999Z',
      '2028-02-29T23:59:59.999Z',
    ]);
    expect(addMonths('2100-01-29T00:00:00.000Z', 1)).toBe('2100-02-28T00:00:00.000Z');
    expect(addMonths('2000-01-30T12:00:00.000Z', 1)).toBe('2000-02-29T12:00:00.000Z');
  });
  it('gives every month of a series as the calendar does: same day, or the month\'s last when it has none', () => {
    const instants = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('2200-12-31T23:59:59.999Z'), noInvalidDate: true });
    fc.assert(
      fc.property(instants, fc.array(fc.integer({ min: 0, max: 240 }), { maxLength: 30 }), (start, months) => {
        const instant = start.toISOString();
        const timeOfDay = instant.slice(10);
        monthsAfter(instant, months).forEach((due, index) => {
          // Walk the calendar a month at a time from the start's first day: where the series must land.
          const first = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months[index]!, 1));
          const nextMonth = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1));
          const lastDay = new Date(nextMonth.getTime() - 1).getUTCDate();
          const day = Math.min(start.getUTCDate(), lastDay);
          const expected = `${first.toISOString().slice(0, 8)}${String(day).padStart(2, '0')}${timeOfDay}`;
          expect(due).toBe(expected);
        });
      }),
    );
  });
  it('writes years past 9999 as toISOString does, signed and six digits', () => {
    const expected = new Date(Date.UTC(10000, 0, 15, 8, 30)).toISOString();
    expect(expected.startsWith('+010000-01-15')).toBe(true);
    expect(monthsAfter('9999-12-15T08:30:00.000Z', [0, 1])).toEqual(['9999-12-15T08:30:00.000Z', expected]);
    expect(addMonths('0100-02-28T00:00:00.000Z', 12)).toBe('0101-02-28T00:00:00.000Z');
  });
  it('credits land in the month after the event', () => {
    expect(nextInvoicePeriod('2026-12-31T23:59:59.999Z')).toBe('2027-01');
    expect(nextInvoicePeriod('2026-01-31T12:00:00.000Z')).toBe('2026-02');
  });
});
