import { Worker } from 'node:worker_threads';
import { nameThisThreadSource } from '../thread-name';
import { fromWireError, type WireError } from './log-writer-thread.protocol';

/**
 * The thread's whole program. Plain CommonJS run with `eval`, as the checkpointer's, so it runs the
 * same under Jest and from dist/. It reads pages of rows as they are, strings and all, and never
 * parses them: structured cloning of parsed events cost the receiving thread more than the
 * `JSON.parse` it would spare (1M events: 4.1 s of the folding thread's time against 3.1 to 3.3 s
 * for rows, and 4.3 to 4.7 s for reading on that thread itself).
 */
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${nameThisThreadSource('csp-log-reader')}
const Database = require(workerData.driver);
const { file, busyTimeoutMs, columns, pageSize } = workerData;
const ready = new Int32Array(workerData.ready);
let after;
let credit = workerData.pagesAhead;
let ended = false;
let db;
const fail = (error) => {
  ended = true;
  const wire = { name: String((error && error.name) || 'Error'), message: String((error && error.message) || error) };
  if (error && typeof error.code === 'string') wire.code = error.code;
  parentPort.postMessage({ error: wire });
  if (db) db.close();
};
const readOn = () => {
  try {
    while (credit > 0 && !ended) {
      const rows = page.all(after, pageSize);
      credit -= 1;
      if (rows.length > 0) after = rows[rows.length - 1][0];
      ended = rows.length < pageSize;
      parentPort.postMessage({ rows, last: ended });
    }
    if (ended) db.close();
  } catch (error) {
    fail(error);
  }
};
let page;
try {
  db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
  db.defaultSafeIntegers(true);
  // LIMIT +?: a bare LIMIT ? is planned with its value, and each binding would compile the statement again.
  page = db.prepare('SELECT ' + columns + ' FROM events WHERE position > ? ORDER BY position LIMIT +?').raw(true);
  parentPort.on('message', (message) => {
    if (typeof message === 'bigint') after = message;
    else credit += 1;
    readOn();
  });
  Atomics.store(ready, 0, 1);
} catch (error) {
  fail(error);
}
`;

type FromReader = { rows: unknown[][]; last: boolean } | { error: WireError };

export interface LogReadAheadOptions {
  file: string;
  busyTimeoutMs: number;
  /** The columns of each row, as the log's own reads select them. */
  columns: string;
  /** Rows after this position are read. */
  after: bigint;
  pageSize: number;
  /** Pages read but not yet taken at most: what the reader holds is bounded by this many pages. */
  pagesAhead: number;
  /**
   * Up to `limit` rows after a position, in position order, read on the calling thread with the
   * columns and order the thread reads: the pages taken before the thread is ready.
   */
  readPageHere(after: bigint, limit: number): unknown[][];
}

/**
 * The log's rows after a position, page by page to its head, read by a thread of its own while the
 * caller works on the page before: a rebuild spent a seventh of its one busy thread reading and
 * decoding the log, and the second core sat mostly idle. Until the thread is ready (it takes 80 to
 * 100 ms to start a V8 isolate, load the driver and open the file, against 13 to 14 ms for a page
 * read here), pages are read on the calling thread, and the thread starts after the last of them.
 * Each page is a page of rows as SQLite returns them; the caller decodes them. Ends at the first
 * page shorter than `pageSize` (the head, as it stood when that page was read). Leaving the loop
 * early ends the thread.
 *
 * @example
 *   const options = { file, busyTimeoutMs: 5000, columns, after: 0n, pageSize: 500, pagesAhead: 4, readPageHere };
 *   for await (const rows of readLogAhead(options)) {
 *     fold(rows.map(decode));
 *   }
 */
export async function* readLogAhead<Row extends unknown[]>(options: LogReadAheadOptions): AsyncGenerator<Row[]> {
  const { readPageHere, after: start, ...threadOptions } = options;
  const ready = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(READER_SOURCE, {
    eval: true,
    workerData: { driver: require.resolve('better-sqlite3'), ready: ready.buffer, ...threadOptions },
  });
  const arrived: FromReader[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const wakeReader = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (message: FromReader) => {
    arrived.push(message);
    wakeReader();
  });
  worker.on('error', (error) => {
    failure ??= error;
    wakeReader();
  });
  worker.on('exit', () => {
    exited = true;
    wakeReader();
  });
  try {
    let after = start;
    for (;;) {
      if (failure) throw failure;
      const rows = readPageHere(after, options.pageSize) as Row[];
      const last = rows.length < options.pageSize;
      if (rows.length > 0) after = rows[rows.length - 1]![0] as bigint;
      const threadReady = Atomics.load(ready, 0) === 1;
      // The thread reads on from here while this page is taken.
      if (threadReady && !last) worker.postMessage(after);
      yield rows;
      if (last) return;
      if (threadReady) break;
    }
    for (;;) {
      while (arrived.length === 0) {
        if (failure) throw failure;
        if (exited) throw new Error('the log reader thread ended before the head of the log');
        // Held only while a page is awaited: a reader left between two pages must not keep the process alive.
        worker.ref();
        await new Promise<void>((resolve) => (wake = resolve));
        worker.unref();
      }
      const message = arrived.shift()!;
      if ('error' in message) throw fromWireError(message.error);
      if (!message.last) worker.postMessage('more');
      yield message.rows as Row[];
      if (message.last) return;
    }
  } finally {
    await worker.terminate();
  }
}
