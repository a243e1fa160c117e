import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

/**
 * Kysely's SQLite transactions begin DEFERRED and take the write lock at their first write. In WAL
 * mode a transaction that has read and then writes while another connection holds that lock fails
 * at once with SQLITE_BUSY ("database is locked"): SQLite calls no busy handler for a reader that
 * wants to write, since its snapshot may already be outdated. Every transaction on the read store
 * writes (folds, generation switches, webhook deliveries), and other connections take the lock:
 * the service's projections, a CLI rebuild beside the service, the checkpointer starting the
 * write-ahead log over. BEGIN IMMEDIATE takes the lock first and waits for it up to the busy
 * timeout, like any other write.
 */
class ImmediateTransactionsDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * @example
 *   const db = new Kysely<Schema>({ dialect: new ImmediateTransactionsSqliteDialect({ database }) });
 */
export class ImmediateTransactionsSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateTransactionsDriver(this.settings);
  }
}
