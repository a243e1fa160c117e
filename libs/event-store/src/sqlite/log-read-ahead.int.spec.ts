import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogAhead, type LogReadAheadOptions } from './log-read-ahead';

type Row = [bigint, string];

describe('readLogAhead', () => {
  let dir: string;
  let db: Database.Database;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'log-read-ahead-'));
    file = join(dir, 'events.sqlite');
    db = new Database(file);
    db.defaultSafeIntegers(true);
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO events (payload) VALUES (?)');
    db.transaction(() => {
      for (let i = 1; i <= 23; i++) insert.run(`event ${i}`);
    })();
  });

  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const everyRow = () => db.prepare('SELECT position, payload FROM events ORDER BY position').raw(true).all() as Row[];
  const optionsWith = (readPageHere: LogReadAheadOptions['readPageHere']): LogReadAheadOptions => ({
    file,
    busyTimeoutMs: 1000,
    columns: 'position, payload',
    after: 2n,
    pageSize: 5,
    pagesAhead: 2,
    readPageHere,
  });
  const readHere = (after: bigint, limit: number) =>
    db.prepare('SELECT position, payload FROM events WHERE position > ? ORDER BY position LIMIT ?').raw(true).all(after, limit) as Row[];

  it('reads its first pages on the calling thread until its thread is ready, and the thread reads on after them', async () => {
    const calls: bigint[] = [];
    const pages: Row[][] = [];
    const slowFirstPage = (after: bigint, limit: number) => {
      calls.push(after);
      // Long enough for the thread to start: the next pages must come from it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
      return readHere(after, limit);
    };
    for await (const page of readLogAhead<Row>(optionsWith(slowFirstPage))) pages.push(page);

    expect(calls).toEqual([2n]);
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 1]);
    expect(pages.flat()).toEqual(everyRow().slice(2));
  });

  it('reads to the head on the calling thread when the head comes before the thread is ready', async () => {
    const calls: bigint[] = [];
    const pages: Row[][] = [];
    for await (const page of readLogAhead<Row>({ ...optionsWith((after, limit) => (calls.push(after), readHere(after, limit))), after: 20n })) {
      pages.push(page);
    }

    expect(calls).toEqual([20n]);
    expect(pages).toEqual([everyRow().slice(20)]);
  });
});
