import { Injectable } from '@nestjs/common';

/**
 * Runs work for one key (a software stream) one at a time in this process, in arrival order, so
 * concurrent uses of one link queue up instead of racing for the stream's expected revision: 60 uses
 * at once are 60 appends in turn, exactly as many succeed as the link allows. Across processes the
 * expected revision still decides, with the runner's conflict retries.
 *
 * @example await turns.inTurn(softwareStream(id), () => runner.run(...));
 */
@Injectable()
export class StreamTurns {
  private readonly tails = new Map<string, Promise<void>>();

  async inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    }
  }
}
