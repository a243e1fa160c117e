import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import { migrateReadModels } from './migrations';
import type { ReadModelSchema } from './schema';

export type ReadModelDb = Kysely<ReadModelSchema>;

/**
 * Opens (and migrates) the read store on a SQLite file. Read models are derived from the log, so
 * `synchronous=NORMAL` is enough: whatever a power cut loses is behind the checkpoint and is folded again.
 */
export async function openSqliteReadModels(filePath: string): Promise<ReadModelDb> {
  mkdirSync(dirname(filePath), { recursive: true });
  const database = new Database(filePath);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<ReadModelSchema>({ dialect: new SqliteDialect({ database }) });
  await migrateReadModels(db);
  return db;
}

/** Opens (and migrates) the read store on PostgreSQL, e.g. `postgres://127.0.0.1:5432/test`. */
export async function openPostgresReadModels(connectionString: string): Promise<ReadModelDb> {
  const db = new Kysely<ReadModelSchema>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString, max: 10 }) }) });
  await migrateReadModels(db);
  return db;
}
