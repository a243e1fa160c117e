import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { DomainError } from '@csp/domain/shared/domain-error';
import { comparePositions, type EventStore, type LogPosition } from '@csp/event-store';
import { LiveFold, readActiveCheckpoints, type AnyProjection, type LiveBatchCommitted, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { Metrics } from '../observability/metrics.service';
import { ENGINE_LIVE_FOLD } from './live-fold-pacing';
import { catchUpTogether } from './catch-up-together';
import { ProjectionWorkerHost } from './projection-worker-host';
import { PROJECTIONS } from './projections.token';
import { SupervisedProjection, type ProjectionState } from './supervised-projection';

const EXTERNAL_POLL_MS = 20;

/**
 * How often a start that is still folding the log says how far it got. The service answers nothing
 * until its read models have caught up: about 45 s on a 1M-event log and an empty read store.
 */
export const CATCH_UP_REPORT_MS = 5_000;

/**
 * The backlog, in events, from which a start folds it in a catch-up thread of its own
 * (`PROJECTIONS=worker`). The thread costs a start about 150 ms (its modules, its stores) and
 * saves about 4 µs an event (a 1M-event log folded in 42 to 43 s instead of 46); below this the
 * worker folds the backlog itself. Positions on the embedded log count its events.
 */
export const CATCH_UP_THREAD_FROM_EVENTS = 50_000n;

/** The line a start still catching up logs: the projection furthest behind against the log's head. */
export function catchUpReport(folded: ReadonlyMap<string, LogPosition>, names: readonly string[], head: LogPosition, secondsSoFar: number): string {
  const furthestBehind = names.reduce((least, name) => {
    const commit = folded.get(name)?.commit ?? 0n;
    return commit < least ? commit : least;
  }, head.commit);
  const percent = Number((furthestBehind * 1000n) / head.commit) / 10;
  return (
    `catching up with the log before answering (${secondsSoFar} s so far): every projection has folded up to position ${furthestBehind} ` +
    `of ${head.commit} (${percent} %); npm run cli -- projections rebuild --all before the start folds a large log faster`
  );
}

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
  private readonly logger = new Logger('ProjectionSupervisor');
  /** What each projection has folded, as last reported. */
  private readonly folded = new Map<string, LogPosition>();
  private readonly onProgress: (name: string, position: LogPosition) => void;

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
    const onProgress = (this.onProgress = (name: string, position: LogPosition) => {
      this.folded.set(name, position);
      metrics.setProjectionPosition(name, Number(position.commit));
    });
    // Positions and batches come from the worker when there is one, else from this thread's own fold.
    const onBatchCommitted = (batch: LiveBatchCommitted) => metrics.observeProjectionBatch(batch);
    this.worker?.onProgress(onProgress);
    this.worker?.onBatchCommitted(onBatchCommitted);
    if (!this.external && !this.worker) {
      const liveFold = new LiveFold(store, db, { ...ENGINE_LIVE_FOLD, onBatchCommitted });
      this.onThisThread = {
        liveFold,
        projections: definitions.map((definition) => new SupervisedProjection(definition, store, db, { onProgress, logger: new Logger(`Projection ${definition.name}`) }, liveFold)),
      };
    }
    metrics.measureOnScrape(async () => {
      for (const [name, lag] of await this.positionsBehind()) metrics.setProjectionLag(name, Number(lag));
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
    const startedAt = Date.now();
    const reports = setInterval(() => void this.reportCatchUp(startedAt), CATCH_UP_REPORT_MS);
    try {
      if (this.worker) await this.worker.start({ backlogInThread: (await this.furthestBehind()) >= CATCH_UP_THREAD_FROM_EVENTS });
      if (this.onThisThread) {
        const { projections } = this.onThisThread;
        await catchUpTogether(this.store, this.db, projections.map(({ definition }) => definition), this.onProgress);
        await Promise.all(projections.map((projection) => projection.start()));
      }
    } finally {
      clearInterval(reports);
    }
  }

  /** How many positions each projection's active checkpoint trails the log's head by. */
  private async positionsBehind(): Promise<Map<string, bigint>> {
    const [head, checkpoints] = await Promise.all([this.store.headPosition(), readActiveCheckpoints(this.db)]);
    return new Map(
      this.names.map((name) => {
        const behind = head ? head.commit - (checkpoints.get(name)?.commit ?? 0n) : 0n;
        return [name, behind > 0n ? behind : 0n];
      }),
    );
  }

  private async furthestBehind(): Promise<bigint> {
    return [...(await this.positionsBehind()).values()].reduce((furthest, behind) => (behind > furthest ? behind : furthest), 0n);
  }

  private async reportCatchUp(startedAt: number): Promise<void> {
    const head = await this.store.headPosition().catch(() => undefined);
    if (!head) return;
    // Nest holds the start's lines until the server listens, so that a start refused by its checks
    // prints only its one line; a start this long has passed them and says what it is doing.
    Logger.flush();
    this.logger.log(catchUpReport(this.folded, this.names, head, Math.round((Date.now() - startedAt) / 1000)));
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
