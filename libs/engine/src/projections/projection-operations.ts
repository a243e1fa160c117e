import { comparePositions, logIntegrityOf, positionToString, type EventStore, type LogPosition } from '@csp/event-store';
import type { SqliteFileOptions } from '../stores/stores';
import { bindToLog } from '@csp/read-models/log-binding';
import {
  foldHistory,
  generationRunner,
  ProjectionGenerations,
  type BuildingGeneration,
  type IndexProgress,
  type ProjectionGeneration,
  readActiveCheckpoints,
  type AnyProjection,
  type ReadModelDb,
} from '@csp/read-models';

/**
 * Events per transaction of a rebuild (read and folded a few hundred at a time inside it, see
 * `foldHistory`). Each commit writes every page the batch dirtied, and in a large store the rows of
 * a batch land on pages all over its tables and indexes: ten thousand events per commit folded a
 * 300,000-event log 1.4x faster than a thousand, with the process under 250 MiB.
 */
export const REBUILD_BATCH_SIZE = 10_000;

/**
 * How a process that rebuilds opens the SQLite read store. Its write-ahead log is copied into the
 * file by a thread of its own every 250 ms, as the service does. Copied by the commit that crosses
 * SQLite's threshold, the copies and their fsyncs were a sixth of a rebuild's time on the folding
 * thread; in their own thread they use the other core (1M events: 49.6 → 42.1 s).
 *
 * A rebuild holds the write lock from one transaction to the next with hardly a gap (it reads the
 * log inside its transactions), which SQLite's busy handler never finds: once the log holds 256 MiB
 * the thread asks the rebuild for its next gap instead (`writerGivesWay`, see
 * `WalCheckpointer.giveWay`), waiting up to 5 s for it (a 10,000-event transaction takes 0.3 to 1.5 s
 * on these machines), and starts the log over there (233 MiB and growing with no RESTART). The
 * rebuild waits in that gap while the RESTART copies what the thread's passes could not yet (the
 * transaction committed just before) and syncs: with the threshold at 25 MiB that was every
 * transaction, a third of the folding thread's wall time idle, and a real 1M-event log folded in
 * 55.5 to 58.3 s (four runs) against 47.6 to 53.1 s at 256 MiB (four runs, the same hour), the
 * log's largest size 76 against 322 MiB.
 *
 * Its page cache stays the 16,000 KiB better-sqlite3 builds in, not the service's `PAGE_CACHE_KIB`:
 * each 10,000-event transaction dirties more pages than that holds, and a 200,000-event rebuild ran
 * about 3 % slower with the smaller one (three pairs), while the rebuilding process stays far under
 * its memory target either way.
 */
export const REBUILD_READ_STORE = {
  walCheckpoints: { everyMs: 250, restartWaitMs: 5000, restartPastBytes: 256 * 1024 * 1024, writerGivesWay: true },
  pageCacheKib: 16_000,
} as const satisfies SqliteFileOptions;

/**
 * A generation being built that has not moved for this long is taken for one whose rebuild stopped
 * (killed, a power cut, the machine gone). A rebuild moves its checkpoint with every batch it folds
 * (10,000 events: about half a second here), as the service's own builds do with each of theirs.
 */
export const REBUILD_STALLED_AFTER_MS = 120_000;

/** Whether `build` has not moved for `REBUILD_STALLED_AFTER_MS`. */
export function hasStalled(build: BuildingGeneration): boolean {
  return Date.parse(build.lastProgressAt) < Date.now() - REBUILD_STALLED_AFTER_MS;
}

export type ProjectionStatusState = 'current' | 'behind' | 'rebuilding' | 'rebuild-stalled' | 'version-changed';

export interface ProjectionStatus {
  name: string;
  /** The version the code defines. */
  version: number;
  /** The generation that answers queries, and the version it was built with. */
  generation: number | null;
  generationVersion: number | null;
  /** Where the answering generation stands (`commit.prepare`); null before its first event. */
  position: string | null;
  /** Events in the log after that position. */
  eventsBehind: number;
  state: ProjectionStatusState;
}

export interface RebuildProgress {
  position: LogPosition;
  eventsFolded: number;
  /** Where the rebuild stops: the head of the log when it began, or `--until`. */
  target: LogPosition | undefined;
}

export interface RebuildOptions {
  /** Stop at this position (inclusive) instead of the head of the log when the rebuild began. */
  until?: LogPosition;
  /** Events per read and per transaction. */
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** After the fold, as the indexes it deferred are built, counted across every projection rebuilt. */
  onIndexProgress?: (progress: IndexProgress) => void;
}

export type { IndexProgress };

export interface RebuildResult {
  name: string;
  generation: number;
  eventsFolded: number;
  position: string | null;
  seconds: number;
}

/**
 * What an operator does to projections from outside the service: read where each stands, and
 * rebuild one into fresh tables (from zero, up to the head of the log or a given position) while
 * the others keep their checkpoints. The answering tables stay in place until the new ones are done.
 *
 * @example
 *   const operations = new ProjectionOperations(store, db, projectionRegistry);
 *   const report = await operations.rebuild('orders', { onProgress: (p) => bar.update(Number(p.position.commit)) });
 */
export interface DiscardedGeneration {
  name: string;
  generation: number;
}

export interface StalledGeneration extends DiscardedGeneration {
  /** When it last moved (ISO 8601). */
  lastProgressAt: string;
}

export class ProjectionOperations {
  private readonly generations: ProjectionGenerations;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly projections: readonly AnyProjection[],
  ) {
    this.generations = new ProjectionGenerations(db);
  }

  async status(): Promise<ProjectionStatus[]> {
    const [generations, building, checkpoints] = await Promise.all([
      this.generations.list(),
      this.generations.buildingWithProgress(),
      readActiveCheckpoints(this.db),
    ]);
    const statuses: ProjectionStatus[] = [];
    for (const projection of this.projections) {
      const active = generations.find((generation) => generation.name === projection.name && generation.status === 'active');
      const builds = building.filter((generation) => generation.name === projection.name);
      const rebuildState = builds.length === 0 ? undefined : builds.every(hasStalled) ? 'rebuild-stalled' : 'rebuilding';
      const position = checkpoints.get(projection.name);
      const eventsBehind = await this.countEventsAfter(position);
      statuses.push({
        name: projection.name,
        version: projection.version,
        generation: active?.generation ?? null,
        generationVersion: active?.version ?? null,
        position: position ? positionToString(position) : null,
        eventsBehind,
        state: rebuildState ?? (active?.version !== projection.version ? 'version-changed' : eventsBehind > 0 ? 'behind' : 'current'),
      });
    }
    return statuses;
  }

  /**
   * Folds the log into a fresh generation of `name`, then makes it the answering one and drops the
   * previous tables. With `until`, the new tables hold the projection as of that position (a running
   * service folds on from there).
   */
  async rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    return (await this.rebuildTogether([name], options))[0]!;
  }

  /**
   * Rebuilds several projections in one pass over the log: each batch is read and decoded once and
   * folded into every fresh generation in one transaction (by its `rebuildFold` where it has one,
   * which stores what it kept once the pass is done). Each switches over once the pass is done;
   * if the pass fails, every fresh generation is dropped and the answering ones stay.
   */
  async rebuildTogether(names: readonly string[], options: RebuildOptions = {}): Promise<RebuildResult[]> {
    const projections = this.named(names);
    const started = Date.now();
    const target = options.until ?? (await this.store.headPosition());
    const generations: ProjectionGeneration[] = [];
    let eventsFolded = 0;
    let activated = 0;
    let position: LogPosition | undefined;
    try {
      for (const projection of projections) generations.push(await this.generations.create(projection));
      const folds = projections.map((projection) => projection.rebuildFold?.());
      for (const [index, fold] of folds.entries()) if (fold) await this.generations.markUnresumable(projections[index]!, generations[index]!);
      const deferredIndexes: number[] = [];
      for (const [index, projection] of projections.entries()) deferredIndexes.push(await this.generations.deferSecondaryIndexes(projection, generations[index]!));
      if (target) {
        const runners = projections.map((projection, index) =>
          generationRunner(this.store, this.db, projection, generations[index]!, { rebuildFold: folds[index] }),
        );
        await foldHistory(this.store, this.db, runners, target, options.batchSize ?? REBUILD_BATCH_SIZE, (last, count) => {
          eventsFolded += count;
          position = last;
          options.onProgress?.({ position, eventsFolded, target });
        });
      }
      for (const [index, fold] of folds.entries()) if (fold) await this.generations.finishRebuildFold(projections[index]!, generations[index]!, fold);
      await this.buildDeferredIndexes(projections, generations, deferredIndexes, options.onIndexProgress);
      for (const [index, projection] of projections.entries()) {
        await this.generations.activate(projection, generations[index]!, { evenIfBehind: true });
        activated++;
      }
    } catch (error) {
      // The ones already switched over answer from complete tables; the rest are dropped.
      for (const [index, generation] of generations.entries()) {
        if (index >= activated) await this.generations.discard(projections[index]!, generation);
      }
      throw error;
    }
    const seconds = (Date.now() - started) / 1000;
    return projections.map((projection, index) => ({
      name: projection.name,
      generation: generations[index]!.generation,
      eventsFolded,
      position: position ? positionToString(position) : null,
      seconds,
    }));
  }

  /** Every index the rebuild deferred (`deferred[i]` of `projections[i]`), counted across the projections for one progress report. */
  private async buildDeferredIndexes(
    projections: readonly AnyProjection[],
    generations: readonly ProjectionGeneration[],
    deferred: readonly number[],
    onIndexProgress: RebuildOptions['onIndexProgress'],
  ): Promise<void> {
    const total = deferred.reduce((sum, count) => sum + count, 0);
    let builtBefore = 0;
    for (const [index, projection] of projections.entries()) {
      await this.generations.buildDeferredIndexes(projection, generations[index]!, ({ index: name, built }) =>
        onIndexProgress?.({ index: name, built: builtBefore + built, total }),
      );
      builtBefore += deferred[index]!;
    }
  }

  /**
   * Drops the generations of these projections that are being built but have not moved for
   * `REBUILD_STALLED_AFTER_MS` (status `rebuild-stalled`): what a rebuild killed part-way leaves.
   * A build that still moves, in this process or another, is left alone.
   */
  discardStalled(names: readonly string[]): Promise<StalledGeneration[]> {
    return this.discardBuilds(names, hasStalled);
  }

  /**
   * Drops every generation still `building` of these projections, stalled or not: for a rebuild
   * killed moments ago, before it counts as stalled. Only for when no rebuild is running, in any
   * process: a running one would lose its tables.
   */
  discardUnfinished(names: readonly string[]): Promise<DiscardedGeneration[]> {
    return this.discardBuilds(names, () => true);
  }

  private async discardBuilds(names: readonly string[], discarding: (build: BuildingGeneration) => boolean): Promise<StalledGeneration[]> {
    const projections = this.named(names);
    const discarded: StalledGeneration[] = [];
    for (const build of await this.generations.buildingWithProgress()) {
      const projection = projections.find((candidate) => candidate.name === build.name);
      if (!projection || !discarding(build)) continue;
      await this.generations.discard(projection, build);
      discarded.push({ name: build.name, generation: build.generation, lastProgressAt: build.lastProgressAt });
    }
    return discarded;
  }

  /**
   * Records that the read store folds this log from now on: after every projection was rebuilt from
   * it, the store no longer holds rows of another log (or of positions the log lost).
   */
  async bindReadStoreToLog(): Promise<string> {
    const integrity = logIntegrityOf(this.store);
    if (!integrity) throw new Error('this event store keeps no identity');
    const logId = await integrity.logIdentity();
    await bindToLog(this.db, logId);
    return logId;
  }

  private named(names: readonly string[]): AnyProjection[] {
    return names.map((name) => {
      const projection = this.projections.find((candidate) => candidate.name === name);
      if (!projection) {
        throw new Error(`No projection named ${JSON.stringify(name)}; known: ${this.projections.map((known) => known.name).join(', ')}`);
      }
      return projection;
    });
  }

  private async countEventsAfter(position: LogPosition | undefined): Promise<number> {
    let count = 0;
    for await (const event of this.store.readAll(position ? { fromPosition: position } : {})) {
      if (position && comparePositions(event.position, position) <= 0) continue;
      count++;
    }
    return count;
  }
}
