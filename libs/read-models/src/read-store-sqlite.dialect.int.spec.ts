import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ReadStoreSqliteDialect } from './read-store-sqlite.dialect';

interface Schema {
  items: { name: string };
}

/** Another connection (on a thread of its own, as another process would be) holds the write lock for `ms`. */
async function holdWriteLock(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO items (name) VALUES ('other connection')").run();
    parentPort.postMessage('locked');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
    db.exec('COMMIT');
    db.close();
    `,
    { eval: true, workerData: { file, ms, driver: require.resolve('better-sqlite3') } },
  );
  const released = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise((resolve) => worker.once('message', resolve));
  return { released };
}

describe('ReadStoreSqliteDialect', () => {
  let dir: string;
  let file: string;
  const opened: Kysely<Schema>[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csp-immediate-'));
    file = join(dir, 'read-models.db');
    const setup = new Database(file);
    setup.pragma('journal_mode = WAL');
    setup.exec('CREATE TABLE items (name TEXT NOT NULL)');
    setup.close();
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (): Kysely<Schema> => {
    const db = new Kysely<Schema>({ dialect: new ReadStoreSqliteDialect({ database: new Database(file, { timeout: 5000 }) }) });
    opened.push(db);
    return db;
  };
  /** Reads, then writes, in one transaction; returns what it read. */
  const readThenWrite = (db: Kysely<Schema>) =>
    db.transaction().execute(async (trx) => {
      const read = (await trx.selectFrom('items').select('name').execute()).map((row) => row.name);
      await trx.insertInto('items').values({ name: 'this connection' }).execute();
      return read;
    });

  // A deferred transaction would read before the other connection commits (seeing nothing) and
  // then, wanting to write while that connection holds the lock, fail with "database is locked"
  // without waiting, or write after it depending on timing.
  it('takes the write lock as it begins: waits for the other connection to commit, reads what it wrote, then writes', async () => {
    const db = open();
    const { released } = await holdWriteLock(file, 200);

    const readInside = await readThenWrite(db);
    await released;

    expect(readInside).toEqual(['other connection']);
    const names = (await db.selectFrom('items').select('name').execute()).map((row) => row.name);
    expect(names.sort()).toEqual(['other connection', 'this connection']);
  });

  // A bare `limit ?` would answer the same rows, but SQLite would compile the statement again for each value bound.
  it('binds a LIMIT as +?, and each run returns as many rows as the value bound to it', async () => {
    const db = open();
    await db.insertInto('items').values(['a', 'b', 'c', 'd'].map((name) => ({ name }))).execute();
    const firstNames = (limit: number) => db.selectFrom('items').select('name').orderBy('name').limit(limit);

    expect(firstNames(3).compile().sql).toMatch(/ limit \+\?$/);
    for (const limit of [3, 1, 4, 0]) {
      expect((await firstNames(limit).execute()).map((row) => row.name)).toEqual(['a', 'b', 'c', 'd'].slice(0, limit));
    }
  });
});
