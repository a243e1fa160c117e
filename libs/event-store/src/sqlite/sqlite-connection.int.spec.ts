import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteConnection, PAGE_CACHE_KIB } from './sqlite-connection';

describe('openSqliteConnection', () => {
  let dir: string;
  const opened: Database.Database[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'csp-sqlite-connection-'));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cacheSizeOf = (db: Database.Database) => Number(db.pragma('cache_size', { simple: true }));

  it("keeps SQLite's own page cache, not the larger one better-sqlite3 builds in", () => {
    const file = join(dir, 'log.db');
    const plain = new Database(file);
    const engine = openSqliteConnection(file);
    opened.push(plain, engine);

    expect(cacheSizeOf(engine)).toBe(-PAGE_CACHE_KIB);
    expect(cacheSizeOf(plain)).toBeLessThan(-PAGE_CACHE_KIB);
  });

  it('keeps statement journals in memory, and a statement that fails half-way still undoes only itself', () => {
    const file = join(dir, 'journal.db');
    const writer = openSqliteConnection(file);
    opened.push(writer);
    writer.pragma('journal_mode = WAL');
    expect(writer.pragma('temp_store', { simple: true })).toBe(2); // MEMORY

    writer.exec('CREATE TABLE rows (id TEXT PRIMARY KEY, text TEXT NOT NULL)');
    const existing = Array.from({ length: 400 }, (_, row) => [`a${String(row).padStart(4, '0')}`, 'y'.repeat(1000)]);
    writer.prepare(`INSERT INTO rows (id, text) VALUES ${existing.map(() => '(?, ?)').join(', ')}`).run(existing.flat());
    // Interleaved with the existing ids, so the statement changes far more than 64 KiB of existing
    // pages before its last row breaks NOT NULL: the journal that undoes it no longer fits in SQLite's
    // in-memory threshold for temporary files.
    const failing: (string | null)[][] = existing.map(([id]) => [`${id}b`, 'z'.repeat(1000)]);
    failing[failing.length - 1] = ['last', null];
    const insertFailing = writer.prepare(`INSERT INTO rows (id, text) VALUES ${failing.map(() => '(?, ?)').join(', ')} ON CONFLICT (id) DO NOTHING`);

    writer.transaction(() => {
      writer.prepare('INSERT INTO rows (id, text) VALUES (?, ?)').run('before', 'kept');
      expect(() => insertFailing.run(failing.flat())).toThrow(/NOT NULL/);
      writer.prepare('INSERT INTO rows (id, text) VALUES (?, ?)').run('after', 'kept');
    })();

    const reader = new Database(file, { readonly: true });
    opened.push(reader);
    expect(reader.prepare("SELECT count(*) AS count FROM rows WHERE text = 'kept'").get()).toEqual({ count: 2 });
    expect(reader.prepare('SELECT count(*) AS count FROM rows').get()).toEqual({ count: 402 });
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('passes the connection options on', () => {
    expect(() => openSqliteConnection(join(dir, 'missing.db'), { fileMustExist: true })).toThrow(/unable to open/);
  });

  it('commits a transaction far larger than its cache whole', () => {
    const file = join(dir, 'large.db');
    const writer = openSqliteConnection(file);
    opened.push(writer);
    writer.pragma('journal_mode = WAL');
    writer.exec('CREATE TABLE padding (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    const insert = writer.prepare('INSERT INTO padding (text) VALUES (?)');
    const rows = Math.ceil((PAGE_CACHE_KIB * 1024 * 4) / 3000);

    let bytes = 0;
    writer.transaction(() => {
      for (let row = 0; row < rows; row++) {
        const text = `${row}:${'x'.repeat(3000)}`;
        bytes += text.length;
        insert.run(text);
      }
    })();

    const reader = new Database(file, { readonly: true });
    opened.push(reader);
    expect(reader.prepare('SELECT count(*) AS count, sum(length(text)) AS bytes FROM padding').get()).toEqual({ count: rows, bytes });
  });
});
