import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import { comparePositions, type EventStore, type LogPosition } from '@csp/event-store';
import { LiveFold, readActiveCheckpoints, type AnyProjection, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { Metrics } from '../observability/metrics.service';
import { ProjectionWorkerHost } from './projection-worker-host';
import { PROJECTIONS } from './projections.token';
import { SupervisedProjection, type ProjectionState } from './supervised-projection';

const EXTERNAL_POLL_MS = 20;

export interface ProjectionHealth {
  name: string;
  state: ProjectionState | 'external';
}

/**
 * Runs every registered projection in this process, each on its own: on the main thread
 * (`PROJECTIONS=in-process`) or in a worker thread (`worker`); or, with `external`, watches the
 * projector's checkpoints. Lets queries wait for a position.
 */
@Injectable()
export class ProjectionSupervisor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly projections: SupervisedProjection[];
  private readonly liveFold: LiveFold;
  private readonly external: boolean;
  private destroyed = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(ENGINE_CONFIG) config: EngineConfig,
    @Inject(PROJECTIONS) definitions: readonly AnyProjection[],
    metrics: Metrics,
    @Optional() @Inject(ProjectionWorkerHost) private readonly worker?: ProjectionWorkerHost,
  ) {
    this.external = config.projections === 'external';
    this.worker?.onProgress((name, position) => metrics.setProjectionPosition(name, Number(position.commit)));
    // With a worker these are never started (the worker runs its own); health() lists them by name.
    this.liveFold = new LiveFold(store, db);
    this.projections = definitions.map(
      (definition) =>
        new SupervisedProjection(
          definition,
          store,
          db,
          { onProgress: (name, position) => metrics.setProjectionPosition(name, Number(position.commit)) },
          this.liveFold,
        ),
    );
    metrics.measureOnScrape(async () => {
      const [head, checkpoints] = await Promise.all([store.headPosition(), readActiveCheckpoints(db)]);
      for (const { name } of definitions) {
        const lag = head ? head.commit - (checkpoints.get(name)?.commit ?? 0n) : 0n;
        metrics.setProjectionLag(name, Number(lag > 0n ? lag : 0n));
      }
    });
  }

  /** Whether this process folds the projections (on its main thread or in its worker) and so runs the scheduler. */
  get runsHere(): boolean {
    return !this.external;
  }

  health(): ProjectionHealth[] {
    return this.projections.map((projection) => {
      const name = projection.definition.name;
      if (this.external) return { name, state: 'external' };
      return { name, state: this.worker ? this.worker.state(name) : projection.state };
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.worker) await this.worker.start();
    else if (this.runsHere) await Promise.all(this.projections.map((projection) => projection.start()));
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    if (this.worker) await this.worker.stop();
    else if (this.runsHere) {
      await Promise.all(this.projections.map((projection) => projection.stop()));
      await this.liveFold.close();
    }
  }

  /** Waits until the read models reflect everything in the log right now. */
  async catchUpWithLog(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head) await this.waitFor(head, timeoutMs);
  }

  /** Resolves once every projection reflects `position`; 503 PROJECTION_LAGGING after `timeoutMs`. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<void> {
    const reached = this.external
      ? await this.waitForExternal(position, timeoutMs)
      : this.worker
        ? await this.worker.waitFor(position, timeoutMs)
        : (await Promise.all(this.projections.map((projection) => projection.waitFor(position, timeoutMs)))).every(Boolean);
    if (reached) return;
    const head = await this.store.headPosition();
    throw new DomainError(
      'PROJECTION_LAGGING',
      'unavailable',
      `The read models have not reached the requested position within ${timeoutMs} ms`,
      head ? { headCommitPosition: head.commit.toString() } : {},
    );
  }

  /** The projector runs in another process: read its checkpoints from the shared read store. */
  private async waitForExternal(position: LogPosition, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoints = await readActiveCheckpoints(this.db);
      const reached = this.projections.every((projection) => {
        const checkpoint = checkpoints.get(projection.definition.name);
        return checkpoint !== undefined && comparePositions(checkpoint, position) >= 0;
      });
      if (reached) return true;
      if (Date.now() >= deadline || this.destroyed) return false;
      await new Promise((resolve) => setTimeout(resolve, EXTERNAL_POLL_MS));
    }
  }
}
