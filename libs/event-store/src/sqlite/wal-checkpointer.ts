import { Worker } from 'node:worker_threads';

/**
 * The thread's whole program. Plain CommonJS run with `eval`, so it needs no build step and runs the
 * same under Jest and from dist/. It opens its own connection to the file and copies the write-ahead
 * log into it every `intervalMs` (PASSIVE: it never waits for readers or writers).
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const report = (error) => parentPort.postMessage({ failed: String(error && error.message ? error.message : error) });
function run() {
  let db;
  try {
    db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs, fileMustExist: true });
    db.pragma('synchronous = FULL');
  } catch (error) {
    report(error);
    parentPort.close();
    return;
  }
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      report(error);
    }
  }, workerData.intervalMs);
  parentPort.on('message', () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
}
run();
`;

export interface WalCheckpointerOptions {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Called when a checkpoint fails (the next tick tries again). */
  onFailure: (message: string) => void;
}

/**
 * Copies a SQLite file's write-ahead log into the file from a thread of its own. In WAL mode the
 * commit that crosses SQLite's threshold does this copy (and its fsync) itself: on the embedded log
 * that stalled the thread answering requests for up to 70 ms every second or so under load. A
 * writer that opens the file with `wal_autocheckpoint = 0` leaves the copy to this thread.
 *
 * @example
 *   const checkpointer = WalCheckpointer.start({ file, intervalMs: 1000, busyTimeoutMs: 5000, onFailure: log });
 *   await checkpointer.stop();
 */
export class WalCheckpointer {
  private stopping = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onFailure: (message: string) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    // Once stopping, the store may already be gone (a test's directory removed): nothing to report.
    const report = (message: string) => {
      if (!this.stopping) onFailure(message);
    };
    worker.on('message', (message: { failed: string }) => report(message.failed));
    worker.on('error', (error) => report(error.message));
    // A checkpointer alone must not keep the process alive.
    worker.unref();
  }

  static start(options: WalCheckpointerOptions): WalCheckpointer {
    const worker = new Worker(CHECKPOINTER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: options.file, intervalMs: options.intervalMs, busyTimeoutMs: options.busyTimeoutMs },
    });
    return new WalCheckpointer(worker, options.onFailure);
  }

  /** Resolves once the thread has closed its connection (or has ended); never rejects. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.worker.threadId !== -1) {
      // Held until it has closed its connection: the process must not end while we wait for that.
      this.worker.ref();
      this.worker.postMessage('stop');
    }
    await this.exited;
  }
}
