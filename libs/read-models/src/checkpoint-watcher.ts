import { comparePositions, type LogPosition } from '@csp/event-store';
import type { ReadModelDb } from './database';
import { readCheckpoint } from './projection-runner';

/**
 * Waits for a projection that runs in another process (the projector), by reading its
 * checkpoint from the shared read store until it reaches the position.
 */
export class CheckpointWatcher {
  constructor(
    private readonly db: ReadModelDb,
    private readonly projectionName: string,
    private readonly pollIntervalMs = 20,
  ) {}

  async waitFor(position: LogPosition, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoint = await readCheckpoint(this.db, this.projectionName);
      if (checkpoint && comparePositions(checkpoint, position) >= 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
    }
  }
}
