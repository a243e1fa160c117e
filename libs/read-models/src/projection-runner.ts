import {
  comparePositions,
  positionFromString,
  positionToString,
  type EventStore,
  type LogPosition,
  type RecordedEvent,
} from '@csp/event-store';
import { EventEmitter } from 'node:events';
import type { Transaction } from 'kysely';
import { foldHistory, LiveFold, type LiveFoldMember } from './live-fold';
import type { ReadModelDb } from './schema';
import { generationTablesOf } from './projection/generation-tables.plugin';
import { compilesAlike, reusableStatement } from './reusable-statement';
import { checkpointName, type AnyProjection, type AnyRebuildFold, type ProjectionGeneration } from './projection/projection-definition';
import type { ReadModelSchema } from './schema';

const DEFAULT_BATCH_SIZE = 500;

export type ProjectFn = (trx: Transaction<ReadModelSchema>, event: RecordedEvent) => Promise<void>;
export type ProjectBatchFn = (trx: Transaction<ReadModelSchema>, events: readonly RecordedEvent[]) => Promise<void>;

export interface ProjectionRunnerOptions {
  /** The checkpoint's key. */
  name: string;
  project: ProjectFn;
  /** Folds the handled events of a batch at once, in place of `project` on each. */
  projectBatch?: ProjectBatchFn;
  /** Event types `project` folds; the others only move the checkpoint. All when absent. */
  handles?: readonly string[];
  /** Most events per transaction, while catching up and live. */
  batchSize?: number;
  /** Stop after this position (inclusive) instead of following the live log: a rebuild "as of" it. */
  until?: LogPosition;
  /** Follows the live log as a member of this shared fold, instead of reading it on its own. */
  liveFold?: LiveFold;
  onProgress?: (position: LogPosition, eventsApplied: number) => void;
}

/**
 * A runner that folds one generation of a projection into that generation's own tables; with
 * `rebuildFold` (a rebuild's, see `ProjectionDefinition.rebuildFold`) its batches go there.
 *
 * @example
 *   const runner = generationRunner(store, db, ordersProjection, generation, { batchSize: 1000 });
 *   await runner.start();
 */
export function generationRunner(
  store: EventStore,
  db: ReadModelDb,
  projection: AnyProjection,
  generation: Pick<ProjectionGeneration, 'name' | 'generation'>,
  options: Omit<ProjectionRunnerOptions, 'name' | 'project' | 'handles'> & { rebuildFold?: AnyRebuildFold } = {},
): ProjectionRunner {
  const { rebuildFold, ...runnerOptions } = options;
  const generationTables = generationTablesOf(projection, generation);
  const applyBatch = rebuildFold ? rebuildFold.applyBatch.bind(rebuildFold) : projection.applyBatch?.bind(projection);
  return new ProjectionRunner(store, db, {
    ...runnerOptions,
    name: checkpointName(generation),
    handles: projection.handles,
    project: (trx, event) => projection.apply(generationTables(trx), event),
    ...(applyBatch ? { projectBatch: (trx: Transaction<ReadModelSchema>, events: readonly RecordedEvent[]) => applyBatch(generationTables(trx), events) } : {}),
  });
}

/**
 * Runs one projection: reads its checkpoint, catches up in batches (one transaction per batch,
 * the checkpoint written in the same transaction), then follows the live log, folding what has
 * arrived since the last transaction in the next one.
 * A crash between two transactions loses nothing: the next start resumes from the checkpoint.
 */
export class ProjectionRunner implements LiveFoldMember {
  /** Where it follows the live log: the process's shared fold, or one of its own. */
  private readonly liveFold: LiveFold | undefined;
  private stopped = false;
  private current: LogPosition | undefined;
  private readonly progress = new EventEmitter();
  private readonly handles: ReadonlySet<string> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly options: ProjectionRunnerOptions,
  ) {
    this.progress.setMaxListeners(0);
    this.handles = options.handles ? new Set(options.handles) : undefined;
    this.liveFold = options.until ? undefined : (options.liveFold ?? new LiveFold(store, db, { batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE }));
  }

  get name(): string {
    return this.options.name;
  }

  /** The last position folded into the read models, as this process knows it. */
  get position(): LogPosition | undefined {
    return this.current;
  }

  /** Reads where its checkpoint stands, so it can be folded with others (`foldHistory`) before it starts, or without starting. */
  async loadCheckpoint(): Promise<LogPosition | undefined> {
    this.current = await readCheckpoint(this.db, this.name);
    return this.current;
  }

  /** Resolves once the history is caught up; live following continues in the background. */
  async start(): Promise<void> {
    await this.loadCheckpoint();
    // Callers may already be waiting (the lifecycle ticker starts alongside this runner): tell them
    // where the read models stand, or a wait for a position the checkpoint already covers would
    // only end at its timeout, since catching up applies nothing new then.
    if (this.current) this.progress.emit('applied', this.current);
    const target = this.options.until ?? (await this.store.headPosition());
    if (target) await foldHistory(this.store, this.db, [this], target, this.options.batchSize ?? DEFAULT_BATCH_SIZE);
    // stop() during the catch-up must not leave it following the live log.
    if (this.stopped || !this.liveFold) return;
    await this.liveFold.join(this);
    // stop() while joining: leave again, so the fold does not write a stopped runner's checkpoint.
    if (this.stopped) await this.liveFold.leave(this);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.liveFold?.leave(this);
    if (this.liveFold && this.liveFold !== this.options.liveFold) await this.liveFold.close();
  }

  /** Waits until the projection has folded `position` (or further); false after the timeout. */
  async waitFor(position: LogPosition, timeoutMs: number): Promise<boolean> {
    if (this.current && comparePositions(this.current, position) >= 0) return true;
    return new Promise((resolve) => {
      const onApplied = (applied: LogPosition): void => {
        if (comparePositions(applied, position) >= 0) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (reached: boolean): void => {
        clearTimeout(timer);
        this.progress.off('applied', onApplied);
        resolve(reached);
      };
      this.progress.on('applied', onApplied);
    });
  }

  onError(listener: (error: unknown) => void): void {
    this.progress.on('error', listener);
  }

  /** Folds `events` (all after `after`, where the checkpoint stands in `trx`) and moves the checkpoint, inside `trx`. */
  async foldInto(trx: Transaction<ReadModelSchema>, events: RecordedEvent[], after: LogPosition | undefined): Promise<void> {
    const handled = this.handles ? events.filter((event) => this.handles!.has(event.type)) : events;
    if (this.options.projectBatch) {
      if (handled.length > 0) await this.options.projectBatch(trx, handled);
    } else {
      for (const event of handled) await this.options.project(trx, event);
    }
    await advanceCheckpoint(compilesAlike(trx, this.db), this.name, after, events.at(-1)!.position);
  }

  /** After the commit of `foldInto`'s transaction. */
  folded(last: LogPosition, count: number): void {
    this.current = last;
    this.options.onProgress?.(last, count);
    this.progress.emit('applied', last);
  }

  failed(error: unknown): void {
    if (!this.stopped) this.progress.emit('error', error);
  }

}

export async function readCheckpoint(db: ReadModelDb, name: string): Promise<LogPosition | undefined> {
  const row = await db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
  return row ? positionFromString(row.position) : undefined;
}

/**
 * Thrown (and the batch rolled back) when the stored checkpoint is no longer where this runner
 * left it: another runner of the same projection advanced it, or the read models were truncated
 * under a running one. Folding on would apply events twice or write a stale checkpoint into a
 * rebuild, so the runner stops instead.
 */
export class ProjectionCheckpointConflictError extends Error {
  constructor(
    readonly projectionName: string,
    readonly expected: LogPosition | undefined,
  ) {
    super(
      `Projection ${projectionName}: the checkpoint moved away from ${expected ? positionToString(expected) : 'the start'}; ` +
        'is another runner of this projection active?',
    );
    this.name = 'ProjectionCheckpointConflictError';
  }
}

/**
 * Compare-and-set: moves the checkpoint from `from` to `to` inside the batch's transaction, or
 * throws so the transaction rolls back. Portable (a conditional UPDATE, an INSERT that does
 * nothing on conflict); no row locks, which SQLite does not have.
 */
async function advanceCheckpoint(
  trx: Transaction<ReadModelSchema>,
  name: string,
  from: LogPosition | undefined,
  to: LogPosition,
): Promise<void> {
  const position = positionToString(to);
  const updatedAt = new Date().toISOString();
  const { numAffectedRows } =
    from === undefined
      ? await insertFirstCheckpoint(trx, name, position, updatedAt)
      : await moveCheckpoint(trx, name, positionToString(from), position, updatedAt);
  if (numAffectedRows !== 1n) throw new ProjectionCheckpointConflictError(name, from);
}

const insertFirstCheckpoint = reusableStatement(
  (name: string, position: string, updatedAt: string) => [name, position, updatedAt],
  (trx: Transaction<ReadModelSchema>, name, position, updatedAt) =>
    trx
      .insertInto('projection_checkpoints')
      .values({ name, position, updated_at: updatedAt })
      .onConflict((conflict) => conflict.column('name').doNothing()),
);

const moveCheckpoint = reusableStatement(
  (name: string, from: string, position: string, updatedAt: string) => [position, updatedAt, name, from],
  (trx: Transaction<ReadModelSchema>, name, from, position, updatedAt) =>
    trx.updateTable('projection_checkpoints').set({ position, updated_at: updatedAt }).where('name', '=', name).where('position', '=', from),
);
