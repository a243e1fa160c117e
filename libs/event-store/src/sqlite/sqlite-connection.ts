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

/**
 * A better-sqlite3 connection to `file` with the engine's page cache, and its statement journals in
 * memory. SQLite copies every existing page a multi-row statement changes into a statement journal
 * (so the statement alone can be undone if it fails half-way), and past 64 KiB it writes that journal
 * to a temporary file. A rebuild's multi-row inserts did so all the time: 10.4 GB written by the
 * folding thread for a 2 GB read store on a 1M-event log, 3.6 GB with the journals in memory, and
 * the rebuild 10 to 20 % faster. A journal lives for one statement or one savepoint, so memory holds
 * at most the pages one of them changes. Temporary tables and sorts too large for the page cache
 * are kept in memory as well, instead of in files (except while a rebuild builds the indexes it
 * deferred: `ProjectionGenerations.buildDeferredIndexes` sorts through files).
 */
export function openSqliteConnection(file: string, { pageCacheKib = PAGE_CACHE_KIB, ...options }: SqliteConnectionOptions = {}): Database.Database {
  const db = new Database(file, options);
  try {
    db.pragma(`cache_size = -${pageCacheKib}`);
    db.pragma('temp_store = MEMORY');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
