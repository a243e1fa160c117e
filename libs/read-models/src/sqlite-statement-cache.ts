import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; the projections and queries use a few hundred at most. */
const DEFAULT_CAPACITY = 1000;

/**
 * Kysely's SQLite driver prepares every query it runs, and preparing costs more than running the
 * small statements projections and queries issue (it was the largest single cost of a rebuild in
 * the benchmark's profile). This hands Kysely the database with prepared statements kept per SQL
 * text, least recently used dropped first. A statement still iterating (a streamed select) is not
 * handed out twice: that caller gets a fresh one.
 *
 * @example
 *   const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(new Database(file)) }) });
 */
export function withStatementCache(database: Database.Database, capacity = DEFAULT_CAPACITY): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (sql: string): SqliteStatement => {
      const cached = statements.get(sql);
      if (cached && !cached.busy) {
        // Re-inserted so the Map's order stays least recently used first.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (!cached) {
        statements.set(sql, statement);
        if (statements.size > capacity) statements.delete(statements.keys().next().value!);
      }
      return statement;
    },
  };
}
