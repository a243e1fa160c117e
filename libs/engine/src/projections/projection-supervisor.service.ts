import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import { comparePositions, type EventStore, type LogPosition } from '@csp/event-store';
import { LiveFold, readActiveCheckpoints, type AnyProjection, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { Metrics } from '../observability/metrics.service';
import { ENGINE_LIVE_FOLD } from './live-fold-pacing';
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
  private readonly names: string[];
  /** Only when the projections fold on this thread (`in-process`). */
  private readonly onThisThread: { projections: SupervisedProjection[]; liveFold: LiveFold } | undefined;
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
    this.names = definitions.map(({ name }) => name);
    const onProgress = (name: string, position: LogPosition) => metrics.setProjectionPosition(name, Number(position.commit));
    this.worker?.onProgress(onProgress);
    if (!this.external && !this.worker) {
      const liveFold = new LiveFold(store, db, ENGINE_LIVE_FOLD);
      this.onThisThread = {
        liveFold,
        projections: definitions.map((definition) => new SupervisedProjection(definition, store, db, { onProgress, logger: new Logger(`Projection ${definition.name}`) }, liveFold)),
      };
    }
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
    if (this.onThisThread) return this.onThisThread.projections.map(({ definition, state }) => ({ name: definition.name, state }));
    return this.names.map((name) => ({ name, state: this.worker ? this.worker.state(name) : 'external' }));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.worker?.start();
    await Promise.all(this.onThisThread?.projections.map((projection) => projection.start()) ?? []);
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    await this.worker?.stop();
    if (this.onThisThread) {
      await Promise.all(this.onThisThread.projections.map((projection) => projection.stop()));
      await this.onThisThread.liveFold.close();
    }
  }

  /** Waits until the read models reflect everything in the log right now. */
  async catchUpWithLog(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head) await this.waitFor(head, timeoutMs);
  }

  /** Resolves once every projection reflects `position`; 503 PROJECTION_LAGGING after `timeoutMs`. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<void> {
    const reached = this.onThisThread
      ? (await Promise.all(this.onThisThread.projections.map((projection) => projection.waitFor(position, timeoutMs)))).every(Boolean)
      : this.worker
        ? await this.worker.waitFor(position, timeoutMs)
        : await this.waitForExternal(position, timeoutMs);
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
      const reached = this.names.every((name) => {
        const checkpoint = checkpoints.get(name);
        return checkpoint !== undefined && comparePositions(checkpoint, position) >= 0;
      });
      if (reached) return true;
      if (Date.now() >= deadline || this.destroyed) return false;
      await new Promise((resolve) => setTimeout(resolve, EXTERNAL_POLL_MS));
    }
  }
}
