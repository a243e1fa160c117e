import type { EventStore, LogPosition } from '@csp/event-store';
import {
  generationRunner,
  type LiveFold,
  ProjectionGenerations,
  type AnyProjection,
  type ProjectionGeneration,
  type ProjectionRunner,
  type ReadModelDb,
} from '@csp/read-models';
import { hasStalled } from './projection-operations';

const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
const WAIT_SLICE_MS = 250;
const SWITCH_RETRY_MS = 50;

export type ProjectionState = 'starting' | 'running' | 'rebuilding' | 'failed' | 'stopped';

/**
 * Where a supervised projection says what it does. Nest's `Logger` is one; the projection worker
 * forwards its lines to the service's logger instead, without loading Nest into its thread.
 */
export interface ProjectionLogger {
  log(message: string): void;
  error(message: string): void;
}

export interface SupervisedProjectionEvents {
  onProgress(projection: string, position: LogPosition): void;
  logger: ProjectionLogger;
}

/**
 * One projection in this process: runs its active generation, restarts it from its checkpoint with
 * back-off when it fails, and, when the code's `version` differs from the active generation's,
 * builds a new generation from zero beside it and switches over once it has caught up, so the old
 * rows keep answering meanwhile. The answering generation keeps following the log during the
 * rebuild, with the code that runs now: a new version must still fold into its predecessor's
 * tables (change their shape through a migration of the same generation, not only in the new one).
 * One projection failing or rebuilding does not hold up the others.
 */
export class SupervisedProjection {
  private active: { generation: ProjectionGeneration; runner: ProjectionRunner } | undefined;
  private building: ProjectionRunner | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private destroyed = false;
  private currentState: ProjectionState = 'starting';

  constructor(
    readonly definition: AnyProjection,
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly events: SupervisedProjectionEvents,
    /** Where its caught-up generations follow the live log, together with the process's other projections. */
    private readonly liveFold?: LiveFold,
  ) {}

  get state(): ProjectionState {
    return this.currentState;
  }

  /** The last position the answering generation folded, as this process knows it. */
  get position(): LogPosition | undefined {
    return this.active?.runner.position;
  }

  /** Resolves once the answering generation has caught up; a rebuild, if due, goes on in the background. */
  async start(): Promise<void> {
    const generations = new ProjectionGenerations(this.db);
    const generation = (await generations.active(this.definition.name)) ?? (await generations.ensureActive([this.definition]))[0]!;
    const runner = this.runnerFor(generation);
    this.active = { generation, runner };
    await runner.start();
    this.currentState = 'running';
    if (generation.version !== this.definition.version) void this.rebuildForNewVersion(generations);
  }

  async stop(): Promise<void> {
    this.destroyed = true;
    this.currentState = 'stopped';
    clearTimeout(this.restartTimer);
    await this.building?.stop();
    await this.active?.runner.stop();
  }

  /** True once the answering generation has folded `position`; false after the timeout or when stopped. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const slice = Math.min(WAIT_SLICE_MS, deadline - Date.now());
      // In slices: a wait that began before a restart or a switch hears from the runner that replaced it.
      if (this.active && (await this.active.runner.waitFor(position, Math.max(0, slice)))) return true;
      if (!this.active) await new Promise((resolve) => setTimeout(resolve, Math.max(0, slice)));
      if (Date.now() >= deadline || this.destroyed) return false;
    }
  }

  private runnerFor(generation: ProjectionGeneration): ProjectionRunner {
    const runner = generationRunner(this.store, this.db, this.definition, generation, {
      ...(this.liveFold ? { liveFold: this.liveFold } : {}),
      onProgress: (position) => {
        this.restartDelayMs = FIRST_RESTART_DELAY_MS;
        if (this.active?.runner === runner) this.events.onProgress(this.definition.name, position);
      },
    });
    runner.onError((error) => {
      if (this.active?.runner === runner) this.restartAfterFailure(error);
    });
    return runner;
  }

  /**
   * Folds a fresh generation from zero while the active one keeps answering (and keeps following the
   * log), then switches the views in one transaction once the new one is not behind.
   */
  private async rebuildForNewVersion(generations: ProjectionGenerations): Promise<void> {
    try {
      this.currentState = 'rebuilding';
      const stale = await generations.building(this.definition.name);
      const ofThisVersion = stale && stale.version === this.definition.version ? stale : undefined;
      // A build of this version goes on from its checkpoint, unless a rebuild left it part-way with rows it kept in memory.
      const resumable = ofThisVersion && (await generations.isResumable(this.definition, ofThisVersion)) ? ofThisVersion : undefined;
      if (ofThisVersion && !resumable && (await this.stillMoving(generations, ofThisVersion))) {
        // A rebuild in another process keeps part of its rows in memory: it switches the views once
        // done, and this one follows then (`restartAfterFailure`).
        this.events.logger.log(
          `version ${this.definition.version}: generation ${ofThisVersion.generation} is being rebuilt by another process; answering from generation ${this.active?.generation.generation} until it switches over`,
        );
        this.currentState = 'running';
        return;
      }
      if (stale && !resumable) await generations.discard(this.definition, stale);
      const fresh = resumable ?? (await generations.create(this.definition));
      this.events.logger.log(`version ${this.definition.version}: building generation ${fresh.generation} from the start of the log`);
      const runner = this.runnerFor(fresh);
      this.building = runner;
      await runner.start();
      // A restart after a failure stops this build; the next start resumes it from its checkpoint.
      const stillBuilding = () => !this.destroyed && this.building === runner;
      while (stillBuilding() && !(await generations.activate(this.definition, fresh))) {
        await new Promise((resolve) => setTimeout(resolve, SWITCH_RETRY_MS));
      }
      if (!stillBuilding()) return;
      const previous = this.active;
      this.active = { generation: { ...fresh, status: 'active' }, runner };
      this.building = undefined;
      await previous?.runner.stop();
      this.currentState = 'running';
      this.events.logger.log(`switched to generation ${fresh.generation} (version ${this.definition.version})`);
    } catch (error) {
      if (this.destroyed) return;
      this.events.logger.error(`rebuild for version ${this.definition.version} failed: ${String(error)}; retrying at the next start`);
      this.currentState = 'failed';
    }
  }

  /** Whether `build` moved within `REBUILD_STALLED_AFTER_MS`, in whichever process folds it. */
  private async stillMoving(generations: ProjectionGenerations, build: ProjectionGeneration): Promise<boolean> {
    const progress = (await generations.buildingWithProgress()).find(({ name, generation }) => name === build.name && generation === build.generation);
    return progress !== undefined && !hasStalled(progress);
  }

  /**
   * A lost connection or a locked database must not leave queries lagging for good: start again from
   * the checkpoint of whichever generation is active by then (a rebuild may have switched it), backing
   * off while the failure repeats.
   */
  private restartAfterFailure(error: unknown): void {
    if (this.destroyed) return;
    this.currentState = 'failed';
    const failed = this.active?.generation;
    void this.replacementOf(failed).then((replacement) => {
      if (this.destroyed) return;
      if (replacement !== undefined) {
        // `projections rebuild` in another process switched the views and dropped the tables this
        // runner wrote to: what the operator asked for, not a fault to report or to back off from.
        this.events.logger.log(`generation ${failed!.generation} was replaced by generation ${replacement} (rebuilt by another process); following it`);
        this.restartIn(FIRST_RESTART_DELAY_MS);
        return;
      }
      const delayMs = this.restartDelayMs;
      this.restartDelayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
      this.events.logger.error(`stopped (${String(error)}); restarting from its checkpoint in ${delayMs} ms`);
      this.restartIn(delayMs);
    });
  }

  /** The generation that answers now, when it is no longer `generation`; undefined when it still is or cannot be read. */
  private async replacementOf(generation: ProjectionGeneration | undefined): Promise<number | undefined> {
    if (!generation) return undefined;
    const active = await new ProjectionGenerations(this.db).active(this.definition.name).catch(() => undefined);
    return active && active.generation !== generation.generation ? active.generation : undefined;
  }

  private restartIn(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      const failed = this.active;
      void (async () => {
        await failed?.runner.stop();
        await this.building?.stop();
        this.building = undefined;
        if (this.destroyed) return;
        await this.start();
      })().catch((restartError: unknown) => this.restartAfterFailure(restartError));
    }, delayMs);
  }
}
