import Database from 'better-sqlite3';

/**
 * The page cache each connection keeps, in KiB: SQLite's own default. better-sqlite3 builds SQLite
 * with 16,000 KiB instead, and the two connections that write in the service (the log's writer
 * thread, the projection worker's read store) filled theirs: about 30 MiB of its resident memory
 * after the benchmark's HTTP runs, for no speed measured (the operating system's cache answers
 * what this one misses). A connection that reads beside another one's writes never fills its
 * cache anyway: SQLite empties it whenever the other connection has committed.
 */
export const PAGE_CACHE_KIB = 2000;

export interface SqliteConnectionOptions extends Database.Options {
  /** Page cache in KiB; `PAGE_CACHE_KIB` unless a process needs more (a rebuild's large transactions). */
  pageCacheKib?: number | undefined;
}

/** A better-sqlite3 connection to `file` with the engine's page cache. */
export function openSqliteConnection(file: string, { pageCacheKib = PAGE_CACHE_KIB, ...options }: SqliteConnectionOptions = {}): Database.Database {
  const db = new Database(file, options);
  try {
    db.pragma(`cache_size = -${pageCacheKib}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
