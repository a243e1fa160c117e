import { StreamTurns } from './stream-turns';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('StreamTurns', () => {
  it('runs work for one key one at a time, in arrival order, a failure not blocking the next', async () => {
    const turns = new StreamTurns();
    const log: string[] = [];
    let running = 0;
    const work = (name: string, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([turns.inTurn('a', work('1')), turns.inTurn('a', work('2', true)), turns.inTurn('a', work('3'))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('lets different keys run side by side', async () => {
    const turns = new StreamTurns();
    let concurrent = 0;
    let most = 0;
    const work = async () => {
      concurrent++;
      most = Math.max(most, concurrent);
      await tick();
      concurrent--;
    };
    await Promise.all([turns.inTurn('a', work), turns.inTurn('b', work)]);
    expect(most).toBe(2);
  });
});
