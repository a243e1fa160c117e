import { Worker } from 'node:worker_threads';
import { nameThisThreadSource } from '../thread-name';

/**
 * The thread's whole program. Plain CommonJS run with `eval`, so it needs no build step and runs the
 * same under Jest and from dist/. For each file it is given it opens a connection of its own and,
 * every `intervalMs`, copies the write-ahead log into the file, then starts the log over from its
 * beginning. It ends once the last file is taken off.
 *
 * A PASSIVE copy never waits for readers or writers, but under steady writes it never catches up
 * either: what is committed while it copies stays behind, and SQLite starts a log over only once
 * all of it is in the file. The log then grows without end (measured: 1.2 GB of read store and
 * 560 MB of event log after 30 s of 500 purchases/s). So PASSIVE passes copy the bulk while
 * writers go on, each the frames committed during the one before, until a pass copies only a few
 * (at most six passes); then a RESTART copies what came in during that short pass and resets the
 * log. RESTART holds writers off while it runs and waits for readers of older frames: at most
 * `restartWaitMs`, after which it gives up until the next tick. With two passes, whatever came in
 * during a second pass of 12 to 27 ms (at 500 purchases/s) was left to the RESTART: it held the
 * projection worker's next transaction off for 7 to 14 ms, and SQLite's busy handler, which sleeps
 * 1, 2, 5, then 10 ms between tries, let the worker in only after 8 to 19: the tail of the
 * projection lag. A log that has been started over and not written since is left alone.
 *
 * A writer that runs transaction after transaction with hardly a gap (a rebuild) never lets the
 * RESTART in: SQLite's busy handler sleeps up to 100 ms between tries and misses gaps of a fraction
 * of a millisecond. For a file opened with \`writerGivesWay\` the thread asks for the next gap
 * instead (\`restartTurn\`: RESTART_WANTED), the writer answers from that gap (WRITER_WAITING,
 * \`WalCheckpointer.giveWay\`) and waits, and the thread starts the log over and hands the file back
 * (IDLE). Unanswered within \`restartWaitMs\`, the request is withdrawn after one try that takes
 * the file only if it is free (a writer that has stopped writing leaves it free).
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${nameThisThreadSource('csp-checkpoints')}
const { openSync, fdatasyncSync, closeSync } = require('node:fs');
const Database = require(workerData.driver);
const FEW_FRAMES = 32;
const MOST_PASSES = 6;
const IDLE = 0;
const RESTART_WANTED = 1;
const WRITER_WAITING = 2;
const removalsInFlight = new Int32Array(workerData.removalsInFlight);
const files = new Map();
const report = (id, error) => parentPort.postMessage({ type: 'failed', id, message: String(error && error.message ? error.message : error) });
parentPort.on('message', (message) => {
  if (message.type === 'add') {
    let db;
    try {
      db = new Database(message.file, { timeout: message.busyTimeoutMs, fileMustExist: true });
      db.pragma('synchronous = FULL');
    } catch (error) {
      report(message.id, error);
      return;
    }
    const turn = message.restartTurn ? new Int32Array(message.restartTurn) : undefined;
    // Unanswered, the writer is inside a long transaction or writes nothing: one try that takes the
    // file only if it is free, so an idle file is still started over and a busy one is not waited for.
    // While it waits, the thread reads no message: with a removal on its way (counted in
    // removalsInFlight before it is sent), it makes the one try at once.
    const restartInWritersGap = () => {
      Atomics.store(turn, 0, RESTART_WANTED);
      if (Atomics.load(removalsInFlight, 0) === 0) Atomics.wait(turn, 0, RESTART_WANTED, message.restartWaitMs);
      Atomics.compareExchange(turn, 0, RESTART_WANTED, IDLE);
      const answered = Atomics.load(turn, 0) === WRITER_WAITING;
      db.pragma('busy_timeout = 0');
      try {
        return db.pragma('wal_checkpoint(RESTART)')[0];
      } finally {
        db.pragma('busy_timeout = ' + message.busyTimeoutMs);
        if (answered) {
          Atomics.compareExchange(turn, 0, WRITER_WAITING, IDLE);
          Atomics.notify(turn, 0);
        }
      }
    };
    let startedOverAt = Date.now();
    const timer = setInterval(() => {
      try {
        let copied;
        let backfilled = -1;
        for (let pass = 1; pass <= MOST_PASSES; pass++) {
          [copied] = db.pragma('wal_checkpoint(PASSIVE)');
          // A writer that started the log over in between makes the count start again.
          const copiedByThisPass = backfilled < 0 || copied.checkpointed < backfilled ? copied.checkpointed : copied.checkpointed - backfilled;
          if (pass > 1 && copiedByThisPass <= FEW_FRAMES) break;
          backfilled = copied.checkpointed;
        }
        // Nothing written since the log last started over, or less than the file was given to hold:
        // no need to hold writers off (a writer starts the log over itself when it finds it all copied
        // and read by nobody).
        if (copied.log === 0 || copied.log < message.restartPastFrames) {
          startedOverAt = Date.now();
          return;
        }
        let restart;
        if (turn) restart = restartInWritersGap();
        else {
          db.pragma('busy_timeout = ' + message.restartWaitMs);
          try {
            [restart] = db.pragma('wal_checkpoint(RESTART)');
          } finally {
            db.pragma('busy_timeout = ' + message.busyTimeoutMs);
          }
        }
        if (restart.busy === 0) startedOverAt = Date.now();
        else if (Date.now() - startedOverAt >= message.stuckReportMs) {
          startedOverAt = Date.now();
          report(message.id, 'the write-ahead log could not be started over for ' + message.stuckReportMs + ' ms (a reader or writer held it each time) and grows until it can');
        }
      } catch (error) {
        report(message.id, error);
      }
    }, message.intervalMs);
    files.set(message.id, { db, timer, logSync: message.syncLogEveryMs > 0 ? syncLogEvery(message, db) : undefined });
  } else if (message.type === 'remove') {
    const file = files.get(message.id);
    files.delete(message.id);
    if (file) {
      clearInterval(file.timer);
      clearInterval(file.logSync);
      file.db.close();
    }
    Atomics.sub(removalsInFlight, 0, 1);
    parentPort.postMessage({ type: 'removed', id: message.id });
    if (message.last) parentPort.close();
  }
});
// Only when another connection has committed since the last sync (data_version tells): an idle file
// is not synced. A log not there (yet, or any more) is nothing to sync; any other failure is
// reported once until a sync succeeds again.
function syncLogEvery(message, db) {
  const logFile = message.file + '-wal';
  let syncedVersion;
  let failing = false;
  return setInterval(() => {
    let fd;
    try {
      const version = db.pragma('data_version', { simple: true });
      if (version === syncedVersion) return;
      fd = openSync(logFile, 'r');
      fdatasyncSync(fd);
      syncedVersion = version;
      failing = false;
    } catch (error) {
      if (error.code === 'ENOENT') return;
      if (!failing) report(message.id, 'syncing the write-ahead log: ' + error.message);
      failing = true;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }, message.syncLogEveryMs);
}
`;

const DEFAULT_RESTART_WAIT_MS = 20;
/** `restartTurn` states, as the thread's program names them. */
const IDLE = 0;
const RESTART_WANTED = 1;
const WRITER_WAITING = 2;
/** How long a writer giving way waits for the RESTART it let in (a copy and a sync); a dead thread does not hold it longer. */
const GIVE_WAY_LIMIT_MS = 10_000;
const DEFAULT_STUCK_REPORT_MS = 60_000;

type FromCheckpointer = { type: 'failed'; id: number; message: string } | { type: 'removed'; id: number };

export interface WalCheckpointerOptions {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /**
   * How long the RESTART that starts the log over may hold writers off while it waits for readers
   * of older frames (then it gives up until the next tick). Default 20 ms. With `writerGivesWay`,
   * how long the thread waits for the writer's next gap instead.
   */
  restartWaitMs?: number;
  /**
   * Start the log over only once it holds this many frames (pages; 4 KiB each by default), not at
   * every tick. Default 0. Each RESTART holds the file's writers off for as long as it takes to copy
   * the last frames and sync: for a file whose writer's wait shows (the projection worker's), fewer
   * of them against a larger log.
   */
  restartPastFrames?: number;
  /**
   * Between copies, sync the write-ahead log itself (`fdatasync` of `<file>-wal`) this often, when
   * the file's writers have committed since the last sync. Default: never. A writer at
   * `synchronous = NORMAL` leaves its frames to the operating system, and each copy then syncs all
   * of them at once before copying: for the service's read store at 500 purchases/s, about 16 MB
   * every 250 ms, 20 to 45 ms each, while every commit of the event log waited behind it on the same
   * disk. Synced as they come, each copy finds little left to sync. Syncing earlier than SQLite
   * would is never less durable.
   */
  syncLogEveryMs?: number;
  /** Reported through `onFailure` when the log could not be started over for this long. Default 60 s. */
  stuckReportMs?: number;
  /**
   * The file's writer calls `giveWay` between its transactions, and the log is started over in one
   * of those gaps (or while the writer writes nothing). For a writer with hardly a gap between its
   * transactions (a rebuild).
   */
  writerGivesWay?: boolean;
  /** Called when a checkpoint fails (the next tick tries again), or the log has not been started over for `stuckReportMs`. */
  onFailure: (message: string) => void;
}

/**
 * The one thread the checkpointers of a process share: each thread is a V8 isolate of its own with
 * its own copy of the SQLite driver, about 10 MiB of resident memory, and the service checkpoints
 * two files (the log and the read store). Started by the first checkpointer, it ends with the last.
 */
class CheckpointerThread {
  private static shared: CheckpointerThread | undefined;

  /** Removals sent and not yet read by the thread, which asks for no writer's gap while one is on its way. */
  private readonly removalsInFlight = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private readonly worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { driver: require.resolve('better-sqlite3'), removalsInFlight: this.removalsInFlight.buffer },
  });
  private readonly failureReports = new Map<number, (message: string) => void>();
  private readonly pendingRemovals = new Map<number, () => void>();
  private readonly restartTurns = new Map<number, Int32Array>();
  private readonly exited: Promise<void>;
  private ended = false;
  private nextId = 1;

  static forThisProcess(): CheckpointerThread {
    return (CheckpointerThread.shared ??= new CheckpointerThread());
  }

  private constructor() {
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.ended = true;
        if (CheckpointerThread.shared === this) CheckpointerThread.shared = undefined;
        for (const removed of this.pendingRemovals.values()) removed();
        this.pendingRemovals.clear();
        resolve();
      }),
    );
    this.worker.on('message', (message: FromCheckpointer) => {
      if (message.type === 'failed') this.failureReports.get(message.id)?.(message.message);
      else {
        this.pendingRemovals.get(message.id)?.();
        this.pendingRemovals.delete(message.id);
      }
    });
    this.worker.on('error', (error) => {
      for (const report of this.failureReports.values()) report(error.message);
    });
    // Checkpointers alone must not keep the process alive.
    this.worker.unref();
  }

  add({
    file,
    intervalMs,
    busyTimeoutMs,
    restartWaitMs = DEFAULT_RESTART_WAIT_MS,
    restartPastFrames = 0,
    syncLogEveryMs = 0,
    stuckReportMs = DEFAULT_STUCK_REPORT_MS,
    onFailure,
  }: WalCheckpointerOptions, restartTurn: SharedArrayBuffer | undefined): number {
    const id = this.nextId++;
    this.failureReports.set(id, onFailure);
    if (restartTurn) this.restartTurns.set(id, new Int32Array(restartTurn));
    this.worker.postMessage({ type: 'add', id, file, intervalMs, busyTimeoutMs, restartWaitMs, restartPastFrames, syncLogEveryMs, stuckReportMs, restartTurn });
    return id;
  }

  /** Resolves once the thread has closed that file's connection (or has ended); reports nothing after it is called. */
  async remove(id: number): Promise<void> {
    if (!this.failureReports.delete(id) || this.ended) return;
    Atomics.add(this.removalsInFlight, 0, 1);
    this.withdrawRestartRequests();
    this.restartTurns.delete(id);
    const last = this.failureReports.size === 0;
    // A checkpointer started from now on gets a thread of its own: this one is ending.
    if (last && CheckpointerThread.shared === this) CheckpointerThread.shared = undefined;
    // Held until the connection is closed: the process must not end while we wait for that.
    this.worker.ref();
    const removed = new Promise<void>((resolve) => this.pendingRemovals.set(id, resolve));
    this.worker.postMessage({ type: 'remove', id, last });
    await removed;
    if (last) await this.exited;
    else if (this.pendingRemovals.size === 0) this.worker.unref();
  }

  /**
   * While the thread waits for a writer's gap it reads no message: a removal, of that file or any
   * other, would wait up to `restartWaitMs` (5 s for a rebuild, whose writer writes no more, and
   * whose process closes its event log before its read store). Withdrawn, the request becomes the
   * one try that takes the file only if it is free.
   */
  private withdrawRestartRequests(): void {
    for (const turn of this.restartTurns.values()) {
      if (Atomics.compareExchange(turn, 0, RESTART_WANTED, IDLE) === RESTART_WANTED) Atomics.notify(turn, 0);
    }
  }
}

/**
 * Copies a SQLite file's write-ahead log into the file from a thread of its own, shared by every
 * checkpointer of the process. In WAL mode the commit that crosses SQLite's threshold does this copy
 * (and its fsync) itself: on the embedded log that stalled the thread answering requests for up to
 * 70 ms every second or so under load. A writer that opens the file with `wal_autocheckpoint = 0`
 * leaves the copy to this thread.
 *
 * @example
 *   const checkpointer = WalCheckpointer.start({ file, intervalMs: 1000, busyTimeoutMs: 5000, onFailure: log });
 *   await checkpointer.stop();
 */
export class WalCheckpointer {
  private constructor(
    private readonly thread: CheckpointerThread,
    private readonly id: number,
    private readonly restartTurn: Int32Array | undefined,
  ) {}

  static start(options: WalCheckpointerOptions): WalCheckpointer {
    const thread = CheckpointerThread.forThisProcess();
    const restartTurn = options.writerGivesWay ? new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT) : undefined;
    return new WalCheckpointer(thread, thread.add(options, restartTurn), restartTurn && new Int32Array(restartTurn));
  }

  /**
   * For a file opened with `writerGivesWay`, called by its writer between two transactions: when the
   * thread is waiting to start the log over, resolves once it has; otherwise at once.
   */
  async giveWay(): Promise<void> {
    const turn = this.restartTurn;
    if (!turn || Atomics.compareExchange(turn, 0, RESTART_WANTED, WRITER_WAITING) !== RESTART_WANTED) return;
    Atomics.notify(turn, 0);
    const waiting = Atomics.waitAsync(turn, 0, WRITER_WAITING, GIVE_WAY_LIMIT_MS);
    if (!waiting.async) return;
    // A pending waitAsync does not keep the event loop alive, and the thread is unreferenced.
    const keepAlive = setTimeout(() => undefined, GIVE_WAY_LIMIT_MS);
    try {
      await waiting.value;
    } finally {
      clearTimeout(keepAlive);
    }
  }

  /** Resolves once the thread has closed this file's connection (or has ended); never rejects. */
  stop(): Promise<void> {
    return this.thread.remove(this.id);
  }
}
