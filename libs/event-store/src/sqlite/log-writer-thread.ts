import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fromWireError, type FromLogWriter, type LogWriterThreadData, type ToLogWriter } from './log-writer-thread.protocol';
import type { AppendOutcome, AppendRequest, BatchItem } from './sqlite-log-writer';

/**
 * Starts the thread's program. From dist/ it is plain JavaScript; run from the TypeScript sources
 * (Jest), the thread has no TypeScript loader of its own, so its modules are transpiled as they load.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.typescript) {
  const ts = require(workerData.typescript);
  const { readFileSync } = require('node:fs');
  require.extensions['.ts'] = (module, filename) => {
    const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    module._compile(outputText, filename);
  };
}
require(workerData.entry);
`;

/**
 * The writer thread's young generation. V8's default on this kind of machine is 32 MiB; the thread
 * only decodes each batch it is handed and binds it to SQLite, so its garbage is small and short-lived.
 */
const WRITER_YOUNG_GENERATION_MB = 4;

interface Waiting {
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * The log's writer in a thread of its own: SQLite's commit (and its fsync) blocks the thread that
 * runs it, and on the thread answering requests that was a quarter of its time under load. The
 * store sends one batch at a time; what callers append meanwhile waits for the next batch, so the
 * slower the disk, the more appends share a commit.
 *
 * A thread that ends (a crash in the driver) fails the commit it held, whose outcome is then
 * unknown to the caller, as after a lost connection; the next commit starts a new thread.
 *
 * @example
 *   const writer = LogWriterThread.start({ file, busyTimeoutMs: 5000, backgroundCheckpoints: true });
 *   const outcomes = await writer.commit([{ streamName, expectedRevision, events }]);
 *   await writer.stop();
 */
export class LogWriterThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private stopping = false;

  private constructor(private readonly data: LogWriterThreadData) {
    this.worker = this.spawn();
  }

  static start(data: LogWriterThreadData): LogWriterThread {
    return new LogWriterThread(data);
  }

  commit(batch: readonly BatchItem[]): Promise<AppendOutcome[]> {
    if (this.stopping) return Promise.reject(new Error('the log writer thread is stopping'));
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    // Only the data crosses: the store's items also hold the callers' resolve and reject.
    const request = ({ streamName, expectedRevision, events }: AppendRequest): AppendRequest => ({ streamName, expectedRevision, events });
    const requests = batch.map((item): BatchItem => ('streams' in item ? { streams: item.streams.map(request) } : request(item)));
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Held while a commit is out: the process must not end before the caller learns its outcome.
      worker.ref();
      worker.postMessage({ type: 'commit', id, batch: requests } satisfies ToLogWriter);
    });
  }

  /** Resolves once the thread has closed its connection (or has ended); never rejects. */
  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'close' } satisfies ToLogWriter);
    await exited;
  }

  private spawn(): Worker {
    const entry = join(__dirname, `log-writer.thread${extname(__filename)}`);
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { ...this.data, entry, typescript: entry.endsWith('.ts') ? require.resolve('typescript') : undefined },
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    worker.on('message', (message: FromLogWriter) => {
      const waiting = this.waiting.get(message.id);
      if (!waiting) return;
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) worker.unref();
      if (message.type === 'failed') waiting.reject(fromWireError(message.error));
      else waiting.resolve(message.outcomes.map((outcome) => (outcome.ok ? outcome : { ok: false, error: fromWireError(outcome.error) })));
    });
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    worker.once('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const lost = new Error(
        `the log writer thread ended (exit code ${code}${failure ? `: ${failure.message}` : ''}) while it held a commit; whether it was written is not known`,
      );
      for (const waiting of this.waiting.values()) waiting.reject(lost);
      this.waiting.clear();
    });
    worker.unref();
    return worker;
  }
}
