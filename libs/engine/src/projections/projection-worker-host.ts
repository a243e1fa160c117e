import { CommitSignal, comparePositions, positionFromString, type LogPosition } from '@csp/event-store';
import { projectionRegistry, type AnyProjection, type LiveBatchCommitted } from '@csp/read-models';
import { Logger } from '@nestjs/common';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineConfig } from '../config/engine-config';
import type { FromProjectionWorker, ProjectionWorkerData, ToProjectionWorker } from './projection-worker.protocol';
import type { ProjectionState } from './supervised-projection';

const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/**
 * The worker's young generation: two 8 MiB semi-spaces and room for large objects, as
 * `--max-semi-space-size=8` gave it before the service let its threads size their own (see
 * `letWorkerThreadsSizeTheirYoungGeneration`). 8 MiB, the limit it had been given while the flag
 * overrode it, held 9.6 MiB less resident after the benchmark's HTTP runs but answered 6 % fewer
 * cancellations (medians of four alternated pairs).
 */
const WORKER_YOUNG_GENERATION_MB = 24;

/**
 * The catch-up thread's young generation, as the CLI's rebuild has it (`--max-semi-space-size=32`):
 * it folds 10,000 events a transaction and keeps their objects alive across many collections. On a
 * 1M-event log, V8's 8 MiB semi-spaces made the same rebuild 42.1 s against 38.2 (the service's start
 * caught up in 47 s); the thread ends when it has folded, and its heap with it.
 */
const CATCH_UP_YOUNG_GENERATION_MB = 96;

/**
 * The service's side of the projection worker thread (PROJECTIONS=worker): starts it, hands it the
 * log's commit signal (the log's writer wakes it after every commit), keeps the positions and
 * states it reports so queries can wait for a position, and starts it again (from the checkpoints)
 * with back-off when it dies.
 */
export class ProjectionWorkerHost {
  private readonly logger = new Logger('ProjectionWorker');
  private readonly positions = new Map<string, LogPosition>();
  private readonly states = new Map<string, ProjectionState>();
  private readonly progress = new EventEmitter();
  private readonly names: string[];
  /** Give it to the log (`commitSignal`): the worker follows it. */
  readonly commitSignal = new CommitSignal();
  private worker: Worker | undefined;
  private workerRole: ProjectionWorkerData['role'] | undefined;
  private stopping = false;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: EngineConfig,
    private readonly masterKey: Buffer,
    projections: readonly AnyProjection[],
  ) {
    if (__filename.endsWith('.ts')) {
      throw new Error('PROJECTIONS=worker runs the built service (npm run build); running the TypeScript sources, use PROJECTIONS=in-process');
    }
    if (projections !== projectionRegistry) throw new Error('PROJECTIONS=worker runs the registered projections; a chosen set runs in-process');
    this.names = projections.map((projection) => projection.name);
    for (const name of this.names) this.states.set(name, 'starting');
    this.progress.setMaxListeners(0);
  }

  /** Calls `listener` with every position a projection reports as folded. */
  onProgress(listener: (projection: string, position: LogPosition) => void): void {
    this.progress.on('progress', listener);
  }

  /** Calls `listener` with every live batch the worker reports as committed. */
  onBatchCommitted(listener: (batch: LiveBatchCommitted) => void): void {
    this.progress.on('batch', listener);
  }

  state(projection: string): ProjectionState {
    return this.states.get(projection) ?? 'starting';
  }

  /**
   * Resolves once every projection in the worker has caught up with the log. With `backlogInThread`,
   * a thread of its own first folds what the log holds beyond the checkpoints, with a young
   * generation sized for it, and ends; the worker that follows the log then folds only what was
   * appended meanwhile. Without it, the worker folds the backlog itself.
   */
  async start({ backlogInThread }: { backlogInThread: boolean }): Promise<void> {
    if (backlogInThread) {
      await this.catchUp();
      if (this.stopping) throw new Error('the service stopped before the projection worker had started');
    }
    await this.follow();
  }

  private catchUp(): Promise<void> {
    const worker = this.spawn('catch-up', CATCH_UP_YOUNG_GENERATION_MB);
    const startedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      let caughtUp = false;
      let folded = false;
      let failure: Error | undefined;
      worker.on('message', (message: FromProjectionWorker) => {
        if (message.type === 'caught-up') caughtUp = true;
        else this.receive(message);
        if (message.type === 'progress') folded = true;
      });
      worker.on('error', (error) => {
        failure = error;
        this.logger.error(`the projections' catch-up thread failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (caughtUp) {
          if (folded) this.logger.log(`caught up with the log in ${((Date.now() - startedAt) / 1000).toFixed(1)} s, in a thread of its own that has ended`);
          resolve();
        } else if (this.stopping) {
          reject(new Error('stopped while catching up with the log; the next start folds on from where the projections got'));
        } else reject(new Error(`the projections' catch-up thread exited with code ${code} before it had caught up${failure ? `: ${failure.message}` : ''}`));
      });
    });
  }

  private follow(): Promise<void> {
    const worker = this.spawn('follow', WORKER_YOUNG_GENERATION_MB);
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (message: FromProjectionWorker) => {
        if (message.type === 'started') {
          started = true;
          this.restartDelayMs = FIRST_RESTART_DELAY_MS;
          resolve();
        } else this.receive(message);
      });
      worker.on('error', (error) => {
        this.logger.error(`the projection worker failed: ${error.message}`);
        if (!started) reject(error);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!started) reject(new Error(`the projection worker exited with code ${code} before it had caught up`));
        else if (!this.stopping) this.restartAfterExit(code);
      });
    });
  }

  private spawn(role: ProjectionWorkerData['role'], youngGenerationMb: number): Worker {
    const worker = new Worker(join(__dirname, 'projection-worker.js'), {
      workerData: { config: this.config, masterKey: new Uint8Array(this.masterKey), commitSignal: this.commitSignal.buffer, role } satisfies ProjectionWorkerData,
      resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
    });
    this.worker = worker;
    this.workerRole = role;
    return worker;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    if (this.workerRole === 'catch-up') {
      // Ended where it stands, as a start killed part-way: the next start folds on from its checkpoints.
      await worker.terminate();
    } else {
      const exited = once(worker, 'exit');
      worker.postMessage({ type: 'stop' } satisfies ToProjectionWorker);
      const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    for (const name of this.names) this.states.set(name, 'stopped');
  }

  /** True once every projection has folded `position` (or further); false after the timeout. */
  waitFor(position: LogPosition, timeoutMs: number): Promise<boolean> {
    const reached = (): boolean =>
      this.names.every((name) => {
        const folded = this.positions.get(name);
        return folded !== undefined && comparePositions(folded, position) >= 0;
      });
    if (reached()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onProgress = (): void => {
        if (reached()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.progress.off('progress', onProgress);
        resolve(result);
      };
      this.progress.on('progress', onProgress);
    });
  }

  private receive(message: FromProjectionWorker): void {
    switch (message.type) {
      case 'progress': {
        const moved: [string, LogPosition][] = [];
        for (const [projection, text] of Object.entries(message.positions)) {
          const position = positionFromString(text);
          if (!position) continue;
          this.positions.set(projection, position);
          moved.push([projection, position]);
        }
        for (const [projection, position] of moved) this.progress.emit('progress', projection, position);
        for (const batch of message.batches) this.progress.emit('batch', batch);
        return;
      }
      case 'states':
        for (const [name, state] of Object.entries(message.states)) this.states.set(name, state);
        return;
      case 'log':
        new Logger(message.context)[message.level](message.message);
        return;
      default:
        return;
    }
  }

  private restartAfterExit(code: number): void {
    for (const name of this.names) this.states.set(name, 'failed');
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    this.logger.error(`the projection worker stopped (exit code ${code}); starting it again from the checkpoints in ${delayMs} ms`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.follow().catch((error: unknown) => {
        this.logger.error(`the projection worker did not start again: ${String(error)}`);
        if (!this.stopping) this.restartAfterExit(1);
      });
    }, delayMs);
  }
}
