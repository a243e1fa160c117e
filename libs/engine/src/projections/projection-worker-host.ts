import { CommitSignal, comparePositions, positionFromString, type LogPosition } from '@csp/event-store';
import { projectionRegistry, type AnyProjection } from '@csp/read-models';
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
 * `letWorkerThreadsSizeTheirYoungGeneration`). Half of it, 8 MiB, held 9.6 MiB less resident after
 * the benchmark's HTTP runs but answered 6 % fewer cancellations (medians of four alternated pairs).
 */
const WORKER_YOUNG_GENERATION_MB = 24;

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

  state(projection: string): ProjectionState {
    return this.states.get(projection) ?? 'starting';
  }

  /** Resolves once every projection in the worker has caught up with the log. */
  start(): Promise<void> {
    const worker = new Worker(join(__dirname, 'projection-worker.js'), {
      workerData: { config: this.config, masterKey: new Uint8Array(this.masterKey), commitSignal: this.commitSignal.buffer } satisfies ProjectionWorkerData,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.worker = worker;
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

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'stop' } satisfies ToProjectionWorker);
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
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
      this.start().catch((error: unknown) => {
        this.logger.error(`the projection worker did not start again: ${String(error)}`);
        if (!this.stopping) this.restartAfterExit(1);
      });
    }, delayMs);
  }
}
