import { Clock } from '@csp/application/ports/clock.port';

/**
 * A clock tests move by hand. Listeners hear every move, so the lifecycle scheduler can
 * catch up at once instead of waiting for its next tick.
 *
 * @example const clock = new ManualClock('2026-01-01T00:00:00.000Z'); clock.advanceDays(7);
 */
export class ManualClock extends Clock {
  private current: number;
  private readonly listeners = new Set<(now: string) => void>();

  constructor(start: string) {
    super();
    this.current = Date.parse(start);
  }

  now(): string {
    return new Date(this.current).toISOString();
  }

  /** `notify: false` moves time without waking listeners: as if the scheduler had not come by yet. */
  set(instant: string, options: { notify?: boolean } = {}): void {
    this.current = Date.parse(instant);
    if (options.notify === false) return;
    for (const listener of this.listeners) listener(this.now());
  }

  advanceMs(ms: number): void {
    this.set(new Date(this.current + ms).toISOString());
  }

  advanceDays(days: number): void {
    this.advanceMs(days * 24 * 60 * 60 * 1000);
  }

  override onChange(listener: (now: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
