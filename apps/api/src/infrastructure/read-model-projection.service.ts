import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { EventStore, LogPosition } from '@csp/event-store';
import { ProjectionRunner, projectReadModels, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Metrics } from '../observability/metrics.service';

export const READ_MODELS_PROJECTION = 'read-models';

/** Runs the read-model projection in this process and lets queries wait for a position. */
@Injectable()
export class ReadModelProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReadModelProjection.name);
  private readonly runner: ProjectionRunner;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) db: ReadModelDb,
    metrics: Metrics,
  ) {
    this.runner = new ProjectionRunner(store, db, {
      name: READ_MODELS_PROJECTION,
      project: projectReadModels,
      onProgress: (position) => metrics.setProjectionPosition(READ_MODELS_PROJECTION, Number(position.commit)),
    });
    this.runner.onError((error) => this.logger.error(`read-model projection stopped: ${String(error)}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.runner.stop();
  }

  /** Waits until the read models reflect everything in the log right now. */
  async catchUpWithLog(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head) await this.waitFor(head, timeoutMs);
  }

  /** Resolves once the read models reflect `position`; 503 PROJECTION_LAGGING after `timeoutMs`. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<void> {
    if (await this.runner.waitFor(position, timeoutMs)) return;
    const head = await this.store.headPosition();
    throw new DomainError(
      'PROJECTION_LAGGING',
      'unavailable',
      `The read models have not reached the requested position within ${timeoutMs} ms`,
      head ? { headCommitPosition: head.commit.toString() } : {},
    );
  }
}
