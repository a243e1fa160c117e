import { NO_STREAM, SqliteEventStore, nameThisThreadSource, readPages } from '@csp/event-store';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { v4 as uuid } from 'uuid';

/** The names Linux shows for this process's threads, as `top -H` lists them. */
function threadNames(): string[] {
  return readdirSync('/proc/self/task').map((thread) => readFileSync(`/proc/self/task/${thread}/comm`, 'utf8').trim());
}

/** Runs `source` in a thread of its own and answers the name that thread then has. */
async function nameOfThreadRunning(source: string): Promise<string> {
  const worker = new Worker(
    `${source}
const { parentPort } = require('node:worker_threads');
parentPort.postMessage(require('node:fs').readFileSync('/proc/thread-self/comm', 'utf8').trim());`,
    { eval: true },
  );
  try {
    return await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe('thread names', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thread-name-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('renames the thread that runs the statement, and no other', async () => {
    const before = threadNames();

    expect(await nameOfThreadRunning(nameThisThreadSource('csp-test-name'))).toBe('csp-test-name');
    expect(await nameOfThreadRunning('')).not.toBe('csp-test-name');
    expect(threadNames().filter((name) => name === 'csp-test-name')).toEqual([]);
    expect(threadNames()[0]).toBe(before[0]);
  });

  it('refuses a name Linux would cut or one that is not plain', () => {
    expect(() => nameThisThreadSource('csp-a-name-too-long')).toThrow(RangeError);
    expect(() => nameThisThreadSource("csp'); process.exit(1); ('")).toThrow(RangeError);
  });

  it("names the SQLite log's writer, checkpointer and read-ahead threads", async () => {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), {
      writer: 'own-thread',
      walCheckpoints: { everyMs: 50 },
      readAheadPastEvents: 1,
    });
    try {
      await store.appendToStream(`thread-${uuid()}`, [{ id: uuid(), type: 'Named', data: {}, metadata: {} }], { expectedRevision: NO_STREAM });
      await store.appendToStream(`thread-${uuid()}`, [{ id: uuid(), type: 'Named', data: {}, metadata: {} }], { expectedRevision: NO_STREAM });
      const pages = readPages(store, { readAhead: true })[Symbol.asyncIterator]();
      await pages.next();
      // The read-ahead thread starts beside the first pages, which are read here until it is ready.
      const deadline = Date.now() + 5000;
      let names = threadNames();
      while (!names.includes('csp-log-reader') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        names = threadNames();
      }
      await pages.return?.();

      expect(names).toEqual(expect.arrayContaining(['csp-log-writer', 'csp-checkpoints', 'csp-log-reader']));
    } finally {
      await store.close();
    }
  });
});
