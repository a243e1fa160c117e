import type { DataKeySource } from '@csp/event-store/codec/field-encryption.codec';
import { generateDataKey, unwrapDataKey, wrapDataKey } from '@csp/event-store/codec/field-cipher';
import type { ReadModelDb } from '@csp/read-models';
import type { Clock } from '../ports/clock.port';
import { IssuedKeyRegistry } from './issued-key-registry';

/** The purchase was cancelled and its data key destroyed: nothing can be encrypted or decrypted for it any more. */
export class DataKeyDestroyedError extends Error {
  constructor(readonly softwareId: string) {
    super(`The data key of ${softwareId} was destroyed when the purchase was cancelled`);
    this.name = 'DataKeyDestroyedError';
  }
}

/**
 * Per-purchase data keys, wrapped under the master key, in the read store's `data_keys` table (owned
 * by no projection, so no rebuild touches it). The event codec asks it for the key to encrypt with;
 * a reveal asks it for the key to decrypt with; the key-shredding reactor destroys keys on cancellation.
 *
 * @example
 *   const vault = new KeyVault(db, masterKey, clock);
 *   const dataKey = await vault.dataKeyFor(softwareId);      // created on first use
 *   const same = await vault.existingDataKey(softwareId);    // undefined once destroyed
 */
export class KeyVault implements DataKeySource {
  constructor(
    private readonly db: ReadModelDb,
    private readonly masterKey: Buffer,
    private readonly clock: Clock,
  ) {}

  async dataKeyFor(softwareId: string): Promise<Buffer> {
    await this.db
      .insertInto('data_keys')
      .values({ software_id: softwareId, wrapped_key: wrapDataKey(generateDataKey(), this.masterKey), created_at: this.clock.now(), destroyed_at: null })
      .onConflict((conflict) => conflict.column('software_id').doNothing())
      .execute();
    const key = await this.existingDataKey(softwareId);
    if (!key) throw new DataKeyDestroyedError(softwareId);
    return key;
  }

  /** The item's data key; undefined when it never had one or it was destroyed. */
  async existingDataKey(softwareId: string): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom('data_keys').select(['wrapped_key', 'destroyed_at']).where('software_id', '=', softwareId).executeTakeFirst();
    if (!row || row.destroyed_at !== null || row.wrapped_key === null) return undefined;
    return unwrapDataKey(row.wrapped_key, this.masterKey);
  }
}

/**
 * The issued-key registry on the read store's `issued_key_fingerprints` table: a fingerprint is
 * claimed by inserting it, so two processes can never both claim one.
 */
export class SqlIssuedKeyRegistry extends IssuedKeyRegistry {
  constructor(
    private readonly db: ReadModelDb,
    private readonly clock: Clock,
  ) {
    super();
  }

  async claim(fingerprint: string): Promise<boolean> {
    const result = await this.db
      .insertInto('issued_key_fingerprints')
      .values({ fingerprint, issued_at: this.clock.now() })
      .onConflict((conflict) => conflict.column('fingerprint').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
}
