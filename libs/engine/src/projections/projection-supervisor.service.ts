import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import { comparePositions, type EventStore, type LogPosition } from '@csp/event-store';
import { readActiveCheckpoints, type AnyProjection, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { Metrics } from '../observability/metrics.service';
import { PROJECTIONS } from './projections.token';
import { SupervisedProjection, type ProjectionState } from './supervised-projection';

const EXTERNAL_POLL_MS = 20;

export interface ProjectionHealth {
  name: string;
  state: ProjectionState | 'external';
}

/**
 * Runs every registered projection in this process, each on its own (or, with
 * `PROJECTIONS=external`, watches the projector's checkpoints), and lets queries wait for a position.
 */
@Injectable()
export class ProjectionSupervisor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly projections: SupervisedProjection[];
  private readonly external: boolean;
  private destroyed = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(ENGINE_CONFIG) config: EngineConfig,
    @Inject(PROJECTIONS) definitions: readonly AnyProjection[],
    metrics: Metrics,
  ) {
    this.external = config.projections === 'external';
    this.projections = definitions.map(
      (definition) =>
        new SupervisedProjection(definition, store, db, {
          onProgress: (name, position) => metrics.setProjectionPosition(name, Number(position.commit)),
        }),
    );
    metrics.measureOnScrape(async () => {
      const [head, checkpoints] = await Promise.all([store.headPosition(), readActiveCheckpoints(db)]);
      for (const { name } of definitions) {
        const lag = head ? head.commit - (checkpoints.get(name)?.commit ?? 0n) : 0n;
        metrics.setProjectionLag(name, Number(lag > 0n ? lag : 0n));
      }
    });
  }

  get runsHere(): boolean {
    return !this.external;
  }

  health(): ProjectionHealth[] {
    return this.projections.map((projection) => ({
      name: projection.definition.name,
      state: this.external ? 'external' : projection.state,
    }));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.runsHere) await Promise.all(this.projections.map((projection) => projection.start()));
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    if (this.runsHere) await Promise.all(this.projections.map((projection) => projection.stop()));
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
