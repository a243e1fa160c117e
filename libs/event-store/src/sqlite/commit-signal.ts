/**
 * The log's commits counted in shared memory: the writer bumps the count after each commit and
 * wakes whoever waits on it, so another thread (the projection worker) learns of appends at once,
 * without a message per commit passing through the thread that answers requests. Hand `buffer` to
 * the other thread and wrap it there again.
 *
 * @example
 *   const signal = new CommitSignal();                    // the service
 *   const stop = new CommitSignal(buffer).follow(() => subscriptions.wake()); // the other thread
 */
export class CommitSignal {
  private readonly count: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.count = new Int32Array(buffer);
  }

  committed(): void {
    Atomics.add(this.count, 0, 1);
    Atomics.notify(this.count, 0);
  }

  /**
   * Calls `onCommit` after commits, in this thread's event loop (commits close together may be one
   * call), until the returned function is called.
   */
  follow(onCommit: () => void): () => void {
    let following = true;
    let seen = Atomics.load(this.count, 0);
    const next = (): void => {
      if (!following) return;
      seen = Atomics.load(this.count, 0);
      onCommit();
      if (following) wait();
    };
    const wait = (): void => {
      const waiting = Atomics.waitAsync(this.count, 0, seen);
      // Not waiting: the count moved on since it was read.
      if (waiting.async) void waiting.value.then(next);
      else setImmediate(next);
    };
    wait();
    return () => {
      following = false;
      // Settles the wait in flight, so nothing is left waiting on the memory.
      Atomics.notify(this.count, 0);
    };
  }
}
