import type { Kysely } from 'kysely';

/**
 * The per-purchase data keys that encrypt product keys in the log, each wrapped under the master
 * key. Kept in the read store but owned by no projection: a rebuild must never drop or refill them,
 * and a destroyed key (crypto-shredding) must stay destroyed.
 */
export interface DataKeysTable {
  software_id: string;
  /** `v1.<iv>.<tag>.<ciphertext>`; null once destroyed. */
  wrapped_key: string | null;
  created_at: string;
  /** When the purchase was cancelled and its key destroyed; null while the key lives. */
  destroyed_at: string | null;
}

/** Fingerprints (HMAC-SHA256) of every product key ever handed out, never the key text. */
export interface IssuedKeyFingerprintsTable {
  fingerprint: string;
  issued_at: string;
}

export interface KeyVaultSchema {
  data_keys: DataKeysTable;
  issued_key_fingerprints: IssuedKeyFingerprintsTable;
}

/** `0004_key_vault` of the store migrations. */
export async function createKeyVaultTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('data_keys')
    .ifNotExists()
    .addColumn('software_id', 'text', (column) => column.primaryKey())
    .addColumn('wrapped_key', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('destroyed_at', 'text')
    .execute();
  await db.schema
    .createTable('issued_key_fingerprints')
    .ifNotExists()
    .addColumn('fingerprint', 'text', (column) => column.primaryKey())
    .addColumn('issued_at', 'text', (column) => column.notNull())
    .execute();
}
