/** How a failing delivery is retried (`WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_RETRY_WINDOW_MS`). */
export interface WebhookRetrySettings {
  /** Wait before the first retry; each further retry waits twice as long. */
  baseMs: number;
  /** The longest wait between two attempts. */
  maxMs: number;
  /** How long an event may keep failing before its endpoint is disabled. */
  windowMs: number;
}

/** Up to this share of the wait is added at random, so endpoints that failed together do not retry together. */
const JITTER = 0.2;

/**
 * The wait before the next attempt after `failedAttempts` failures: `baseMs`, doubling each time up to
 * `maxMs`, plus up to 20 % jitter (never less than the nominal wait).
 *
 * @example retryDelayMs(1, { baseMs: 5000, maxMs: 3_600_000, windowMs: 86_400_000 }) // 5000 to 6000
 */
export function retryDelayMs(failedAttempts: number, settings: Pick<WebhookRetrySettings, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const nominal = Math.min(settings.baseMs * 2 ** Math.max(0, failedAttempts - 1), settings.maxMs);
  return Math.round(nominal * (1 + JITTER * random()));
}

/** Whether an event that first failed at `firstFailedAt` has failed for the whole window by `now`. */
export function retryWindowIsOver(firstFailedAt: string, now: string, settings: Pick<WebhookRetrySettings, 'windowMs'>): boolean {
  return Date.parse(now) - Date.parse(firstFailedAt) >= settings.windowMs;
}
