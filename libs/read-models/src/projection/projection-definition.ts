import type { RecordedEvent } from '@csp/event-store';
import type { Kysely, Migration, Transaction } from 'kysely';

/**
 * A projection as a unit: its own tables, migrations, version and checkpoint. Adding one is a new
 * folder and a line in `registry.ts`, never an edit of a central switch.
 *
 * Tables are named logically (`subscriptions`); each generation of the projection keeps them as
 * physical tables (`subscriptions__g2`) and a view under the logical name points at the active
 * generation, so queries never know which generation answers and a rebuild can fill fresh tables
 * while the old ones keep answering.
 *
 * @example
 *   export const customersProjection: ProjectionDefinition<CustomersSchema> = {
 *     name: 'customers', version: 1, handles: ['CustomerRegistered'], tables: ['customers'],
 *     migrations: (table) => ({ '0001_create': { up: (db) => db.schema.createTable(table('customers'))...execute() } }),
 *     apply: async (trx, event) => { await trx.insertInto('customers').values(...).execute(); },
 *   };
 */
export interface ProjectionDefinition<Schema = unknown> {
  /** Stable name: checkpoints, metrics, the CLI and `projections status` use it. */
  name: string;
  /**
   * Bumped whenever `apply` or the tables change meaning: a running engine then builds a new
   * generation from position 0 and switches over once it has caught up.
   */
  version: number;
  /** Event types `apply` folds; other events only move the checkpoint. */
  handles: readonly string[];
  /** Logical names of the tables it owns. */
  tables: readonly string[];
  /**
   * Ordered migrations of one generation's tables, written against physical names (`table('orders')`
   * is `orders__g<n>`, index names included). A database of an older code version runs the missing ones.
   */
  migrations: (table: (logicalName: string) => string) => Record<string, Migration>;
  /** Folds one event, inside the batch's transaction. Must be deterministic: a rebuild gives the same rows. */
  apply(trx: Transaction<Schema>, event: RecordedEvent): Promise<void>;
  /**
   * Folds a batch of events it handles (in log order) with fewer statements than one `apply` each,
   * e.g. reading and writing each row once per batch. Must leave the same rows as `apply` on each event in turn.
   */
  applyBatch?(trx: Transaction<Schema>, events: readonly RecordedEvent[]): Promise<void>;
  /**
   * A fold for a rebuild: a fresh generation folded from the start of the log in one pass of one
   * process, which keeps in memory between its batches what a fold that may stop and resume
   * anywhere must store in each. Without it a rebuild folds with `applyBatch`.
   */
  rebuildFold?(): RebuildFold<Schema>;
}

/**
 * One rebuild's fold (`ProjectionDefinition.rebuildFold`). Its batches and `finish` together leave
 * the rows `applyBatch` leaves; a rebuild that stops before `finish` is discarded whole.
 */
export interface RebuildFold<Schema> {
  applyBatch(trx: Transaction<Schema>, events: readonly RecordedEvent[]): Promise<void>;
  /** Stores what the batches kept, after the last of them and before the generation answers. */
  finish(trx: Transaction<Schema>): Promise<void>;
}

/** Any projection, whatever its tables (the registry holds several schemas). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = ProjectionDefinition<any>;

/** Any projection's rebuild fold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRebuildFold = RebuildFold<any>;

/** One set of physical tables of a projection. */
export interface ProjectionGeneration {
  name: string;
  generation: number;
  version: number;
  status: 'active' | 'building';
}

/** The physical name of a logical table in a generation. */
export function physicalTable(logicalName: string, generation: number): string {
  return `${logicalName}__g${generation}`;
}

/** The checkpoint key of a generation: each generation folds the log on its own. */
export function checkpointName(generation: Pick<ProjectionGeneration, 'name' | 'generation'>): string {
  return `${generation.name}@g${generation.generation}`;
}

export type ProjectionDb<Schema> = Kysely<Schema>;
