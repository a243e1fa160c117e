import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { EventStore, LogPosition } from '@csp/event-store';
import { CheckpointWatcher, ProjectionRunner, projectReadModels, readCheckpoint, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { Metrics } from '../observability/metrics.service';

export const READ_MODELS_PROJECTION = 'read-models';

const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
const WAIT_SLICE_MS = 250;

/**
 * Runs the read-model projection in this process (or, with `PROJECTIONS=external`, watches the
 * projector's checkpoint) and lets queries wait for a position.
 */
@Injectable()
export class ReadModelProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReadModelProjection.name);
  private runner: ProjectionRunner;
  private readonly external: CheckpointWatcher | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private destroyed = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(ENGINE_CONFIG) config: EngineConfig,
    private readonly metrics: Metrics,
  ) {
    this.external = config.projections === 'external' ? new CheckpointWatcher(db, READ_MODELS_PROJECTION) : undefined;
    this.runner = this.newRunner();
    metrics.measureOnScrape(async () => {
      const [head, applied] = await Promise.all([store.headPosition(), readCheckpoint(db, READ_MODELS_PROJECTION)]);
      const lag = head ? head.commit - (applied?.commit ?? 0n) : 0n;
      metrics.setProjectionLag(READ_MODELS_PROJECTION, Number(lag > 0n ? lag : 0n));
    });
  }

  get runsHere(): boolean {
    return this.external === undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.runsHere) await this.runner.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    clearTimeout(this.restartTimer);
    if (this.runsHere) await this.runner.stop();
  }

  /** In slices, so a wait that began before a restart hears from the runner that replaced the failed one. */
  private async waitInProcess(position: LogPosition, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const slice = Math.min(WAIT_SLICE_MS, deadline - Date.now());
      if (await this.runner.waitFor(position, Math.max(0, slice))) return true;
      // A stopped projection will not get there: answer now rather than at the deadline.
      if (Date.now() >= deadline || this.destroyed) return false;
    }
  }

  private newRunner(): ProjectionRunner {
    const runner = new ProjectionRunner(this.store, this.db, {
      name: READ_MODELS_PROJECTION,
      project: projectReadModels,
      onProgress: (position) => {
        this.restartDelayMs = FIRST_RESTART_DELAY_MS;
        this.metrics.setProjectionPosition(READ_MODELS_PROJECTION, Number(position.commit));
      },
    });
    runner.onError((error) => this.restartAfterFailure(error));
    return runner;
  }

  /**
   * A lost connection or a locked database must not leave queries lagging for good: start again
   * from the checkpoint, backing off while the failure repeats.
   */
  private restartAfterFailure(error: unknown): void {
    if (this.destroyed) return;
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    this.logger.error(`read-model projection stopped (${String(error)}); restarting from its checkpoint in ${delayMs} ms`);
    this.restartTimer = setTimeout(() => {
      void this.runner.stop().then(async () => {
        if (this.destroyed) return;
        this.runner = this.newRunner();
        await this.runner.start();
      }).catch((restartError: unknown) => this.restartAfterFailure(restartError));
    }, delayMs);
  }

  /** Waits until the read models reflect everything in the log right now. */
  async catchUpWithLog(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head) await this.waitFor(head, timeoutMs);
  }

  /** Resolves once the read models reflect `position`; 503 PROJECTION_LAGGING after `timeoutMs`. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<void> {
    const reached = this.external ? await this.external.waitFor(position, timeoutMs) : await this.waitInProcess(position, timeoutMs);
    if (reached) return;
    const head = await this.store.headPosition();
    throw new DomainError(
      'PROJECTION_LAGGING',
      'unavailable',
      `The read models have not reached the requested position within ${timeoutMs} ms`,
      head ? { headCommitPosition: head.commit.toString() } : {},
    );
  }
}
