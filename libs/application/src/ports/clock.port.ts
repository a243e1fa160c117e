/** Time arrives with commands from here; the domain never reads a clock. */
export abstract class Clock {
  /** The current instant as an ISO 8601 UTC string. */
  abstract now(): string;

  /**
   * Calls `listener` whenever the clock jumps (a clock that only ticks never does), so work that
   * waits for time can run at once. Returns the unsubscribe function.
   */
  onChange(_listener: (now: string) => void): () => void {
    return () => undefined;
  }
}

export class SystemClock extends Clock {
  now(): string {
    return new Date().toISOString();
  }
}
