import { comparePositions, type EventStore, type LogPosition, type StorageFailureError } from '@csp/event-store';
import { readActiveCheckpoints, type ReadModelDb } from '@csp/read-models';
import { sql } from 'kysely';
import type { ProjectionSupervisor } from '../projections/projection-supervisor.service';
import type { LifecycleTicker } from '../scheduling/lifecycle-ticker.service';
import type { ReadinessCheck } from './readiness-check';

/** A projection further behind the log's head than this many events counts as not ready. */
export const DEFAULT_READY_LAG_EVENTS = 1000;

interface WriteFaultReporter {
  writeFault(): Promise<StorageFailureError | undefined>;
}

function writeFaultReporterOf(store: EventStore): WriteFaultReporter | undefined {
  let current: unknown = store;
  for (let depth = 0; depth < 10 && current; depth++) {
    if (typeof (current as Partial<WriteFaultReporter>).writeFault === 'function') return current as WriteFaultReporter;
    current = (current as { inner?: unknown }).inner;
  }
  return undefined;
}

export interface EngineReadinessDependencies {
  store: EventStore;
  db: ReadModelDb;
  supervisor: ProjectionSupervisor;
  ticker: LifecycleTicker;
  lagBoundEvents?: number;
}

/**
 * What `/health/ready` asks of a process of the engine: the log answers and takes writes, the read
 * store answers, every projection runs (here, or in the projector: its checkpoints) within the lag
 * bound, and the scheduler ticks where it runs.
 *
 * @example
 *   ObservabilityModule.forRoot({ readinessChecks: { inject: [...], useFactory: (...) => engineReadinessChecks({ store, db, supervisor, ticker }) } })
 */
export function engineReadinessChecks({ store, db, supervisor, ticker, lagBoundEvents = DEFAULT_READY_LAG_EVENTS }: EngineReadinessDependencies): ReadinessCheck[] {
  const writes = writeFaultReporterOf(store);
  return [
    {
      name: 'eventStore',
      check: async () => {
        await store.headPosition();
        const fault = await writes?.writeFault();
        if (fault) throw fault;
      },
    },
    { name: 'readStore', check: async () => void (await sql`select 1`.execute(db)) },
    {
      name: 'projections',
      check: async () => {
        const notRunning = supervisor.health().filter(({ state }) => state !== 'running' && state !== 'rebuilding' && state !== 'external');
        if (notRunning.length > 0) throw new Error(`not running: ${notRunning.map(({ name, state }) => `${name} (${state})`).join(', ')}`);
        const checkpoints = await readActiveCheckpoints(db);
        const behind = await eventsAfter(store, slowest([...checkpoints.values()]), lagBoundEvents + 1);
        if (behind > lagBoundEvents) throw new Error(`a projection is more than ${lagBoundEvents} events behind the log`);
      },
    },
    {
      name: 'scheduler',
      check: async () => {
        if (!ticker.isAlive()) throw new Error('no lifecycle pass within two intervals');
      },
    },
  ];
}

/** The checkpoint furthest behind; undefined (the start of the log) when a projection has folded nothing. */
function slowest(checkpoints: (LogPosition | undefined)[]): LogPosition | undefined {
  if (checkpoints.some((checkpoint) => checkpoint === undefined)) return undefined;
  return (checkpoints as LogPosition[]).reduce<LogPosition | undefined>(
    (min, checkpoint) => (min === undefined || comparePositions(checkpoint, min) < 0 ? checkpoint : min),
    undefined,
  );
}

/** Events after `position`, counting no further than `cap` so a far-behind projection costs a bounded read. */
async function eventsAfter(store: EventStore, position: LogPosition | undefined, cap: number): Promise<number> {
  let count = 0;
  for await (const event of store.readAll({ ...(position ? { fromPosition: position } : {}), maxCount: cap + 1 })) {
    if (position && comparePositions(event.position, position) <= 0) continue;
    if (++count >= cap) break;
  }
  return count;
}
