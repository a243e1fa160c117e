import { positionFromString, type LogPosition } from '@csp/event-store';
import type { ReadModelDb } from './schema';
import { checkpointName } from './projection/projection-definition';

/**
 * Where each projection's answering generation stands, read from the store: what a process that
 * does not run the projections (an api beside a projector, the CLI) knows of them.
 */
export async function readActiveCheckpoints(db: ReadModelDb): Promise<Map<string, LogPosition | undefined>> {
  const generations = await db.selectFrom('projection_generations').select(['name', 'generation']).where('status', '=', 'active').execute();
  const checkpoints = await db.selectFrom('projection_checkpoints').select(['name', 'position']).execute();
  const byName = new Map(checkpoints.map((checkpoint) => [checkpoint.name, checkpoint.position]));
  return new Map(
    generations.map((generation) => {
      const position = byName.get(checkpointName({ name: generation.name, generation: Number(generation.generation) }));
      return [generation.name, position === undefined ? undefined : positionFromString(position)];
    }),
  );
}
