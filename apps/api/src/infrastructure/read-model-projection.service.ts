import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { EventStore, LogPosition } from '@csp/event-store';
import { CheckpointWatcher, ProjectionRunner, projectReadModels, readCheckpoint, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Metrics } from '../observability/metrics.service';

export const READ_MODELS_PROJECTION = 'read-models';

/**
 * Runs the read-model projection in this process (or, with `PROJECTIONS=external`, watches the
 * projector's checkpoint) and lets queries wait for a position.
 */
@Injectable()
export class ReadModelProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReadModelProjection.name);
  private readonly runner: ProjectionRunner;
  private readonly external: CheckpointWatcher | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) db: ReadModelDb,
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: Metrics,
  ) {
    this.external = config.projections === 'external' ? new CheckpointWatcher(db, READ_MODELS_PROJECTION) : undefined;
    this.runner = new ProjectionRunner(store, db, {
      name: READ_MODELS_PROJECTION,
      project: projectReadModels,
      onProgress: (position) => metrics.setProjectionPosition(READ_MODELS_PROJECTION, Number(position.commit)),
    });
    this.runner.onError((error) => this.logger.error(`read-model projection stopped: ${String(error)}`));
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
    if (this.runsHere) await this.runner.stop();
  }

  /** Waits until the read models reflect everything in the log right now. */
  async catchUpWithLog(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head) await this.waitFor(head, timeoutMs);
  }

  /** Resolves once the read models reflect `position`; 503 PROJECTION_LAGGING after `timeoutMs`. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<void> {
    const reached = this.external
      ? await this.external.waitFor(position, timeoutMs)
      : await this.runner.waitFor(position, timeoutMs);
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
