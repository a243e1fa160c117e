import type { LogSubscription, RecordedEvent } from '../event-store.port';

/** One bounded read of the log after a position, as the SQLite store answers it. */
export interface LogPage {
  events: RecordedEvent[];
  /** Every position up to here has been examined; the next read starts after it. */
  scannedTo: bigint;
  /** True when the page ended at the newest committed event. */
  reachedHead: boolean;
}

/** What a subscription needs from its store; kept narrow so the store owns all SQL. */
export interface LogPageSource {
  readPage(after: bigint, streamPrefixes: readonly string[]): LogPage;
  detach(subscription: SqliteLogSubscription): void;
}

/**
 * A pull-based catch-up subscription: it reads pages after the last delivered position
 * until it reaches the head, then waits for a local append or the next poll tick.
 * Because every read starts strictly after what was delivered, history and live events
 * join with no gap and no duplicate.
 *
 * @example
 *   const subscription = store.subscribeToAll({ streamPrefixes: ['order-'] });
 *   for await (const event of subscription) await project(event);
 */
export class SqliteLogSubscription implements LogSubscription {
  private closed = false;
  private wake: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly iterator: AsyncGenerator<RecordedEvent>;

  constructor(
    private readonly source: LogPageSource,
    private after: bigint,
    private readonly streamPrefixes: readonly string[],
    private readonly pollIntervalMs: number,
  ) {
    this.iterator = this.run();
  }

  /** One iterator per subscription: a second `for await` continues where the first stopped. */
  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.iterator;
  }

  /** Called by the store after each commit made through it, so local appends arrive without waiting for a poll. */
  notifyAppended(): void {
    this.wakeUp();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp();
    this.source.detach(this);
  }

  private async *run(): AsyncGenerator<RecordedEvent> {
    try {
      while (!this.closed) {
        const page = this.source.readPage(this.after, this.streamPrefixes);
        for (const event of page.events) {
          if (this.closed) return;
          this.after = event.position.commit;
          yield event;
        }
        this.after = page.scannedTo;
        // Wait only after a read that found nothing: events committed while the consumer held
        // the previous page are picked up by reading again, not by the next poll.
        if (page.reachedHead && page.events.length === 0) await this.waitForAppend();
      }
    } finally {
      this.closed = true;
      this.stopWaiting();
      this.source.detach(this);
    }
  }

  private waitForAppend(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.wake = resolve;
      // Appends by other processes (or other store instances) reach us only through the file.
      this.pollTimer = setTimeout(() => this.wakeUp(), this.pollIntervalMs);
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.stopWaiting();
    wake?.();
  }

  private stopWaiting(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.wake = undefined;
  }
}
