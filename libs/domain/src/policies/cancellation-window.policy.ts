import { DomainError } from '../shared/domain-error';
import { addDays, toMs } from '../shared/time';

/** A software subscription can be cancelled in the first 7 days of each term. */
export const SUBSCRIPTION_CANCELLATION_WINDOW_DAYS = 7;
/** Perpetual software can be cancelled within 30 days of the purchase date. */
export const PERPETUAL_CANCELLATION_WINDOW_DAYS = 30;

export function subscriptionCancellationAllowedUntil(termStart: string): string {
  return addDays(termStart, SUBSCRIPTION_CANCELLATION_WINDOW_DAYS);
}

/** termStart <= t < termStart + 7 days. */
export function isWithinSubscriptionCancellationWindow(termStart: string, at: string): boolean {
  const t = toMs(at);
  return toMs(termStart) <= t && t < toMs(subscriptionCancellationAllowedUntil(termStart));
}

export function perpetualCancellationAllowedUntil(purchasedAt: string): string {
  return addDays(purchasedAt, PERPETUAL_CANCELLATION_WINDOW_DAYS);
}

/** t < purchasedAt + 30 days. */
export function isWithinPerpetualCancellationWindow(purchasedAt: string, at: string): boolean {
  return toMs(at) < toMs(perpetualCancellationAllowedUntil(purchasedAt));
}

/** Whole days left before the window closes (0 once it has), counting a started day as left. */
export function daysLeftUntil(until: string, at: string): number {
  const remaining = toMs(until) - toMs(at);
  return remaining <= 0 ? 0 : Math.ceil(remaining / (24 * 60 * 60 * 1000));
}

/** The refusal names the instant the window closed, so a client can show it. */
export function cancellationWindowClosed(what: string, cancellationAllowedUntil: string): DomainError {
  return new DomainError(
    'CANCELLATION_WINDOW_CLOSED',
    'unprocessable',
    `${what} could be cancelled only until ${cancellationAllowedUntil}`,
    { cancellationAllowedUntil },
  );
}
