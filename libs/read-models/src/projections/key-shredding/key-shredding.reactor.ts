import type { PerpetualLineCancelled } from '@csp/domain/order/order.events';
import { softwareIdOf } from '@csp/domain/software/software.events';
import type { SubscriptionCancelled } from '@csp/domain/subscription/subscription.events';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { DataKeysTable, KeyVaultSchema } from '../../key-vault/key-vault.tables';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { multiRowStatement } from '../multi-row-statement';

/** The software item a cancellation revokes (a subscription's id, or a perpetual line's order id and number). */
export function cancelledSoftwareId(recorded: RecordedEvent): string | undefined {
  const event = { type: recorded.type, data: recorded.data } as unknown as SubscriptionCancelled | PerpetualLineCancelled;
  switch (event.type) {
    case 'SubscriptionCancelled':
      return event.data.subscriptionId;
    case 'PerpetualLineCancelled':
      return softwareIdOf(event.data.orderId, event.data.lineItemNumber, null);
    default:
      return undefined;
  }
}

/**
 * Destroys the data key of each cancelled purchase (crypto-shredding): its wrapped key is overwritten
 * and the row marked destroyed, so the product keys encrypted under it in the immutable log can never
 * be decrypted again, and no new key can be encrypted for it. A tombstone is written even when no
 * key was ever generated, for the same reason. Driven by the log with its own checkpoint, so it
 * happens after a crash and on every store; applying it twice changes nothing.
 */
async function destroyDataKeys(trx: Transaction<KeyVaultSchema>, cancellations: readonly RecordedEvent[]): Promise<void> {
  // Each item once, at its first cancellation: what destroying them one by one leaves (the first
  // instant stays), and PostgreSQL refuses an upsert that reaches one row twice.
  const destroyedAt = new Map<string, string>();
  for (const recorded of cancellations) {
    const softwareId = cancelledSoftwareId(recorded);
    if (softwareId !== undefined && !destroyedAt.has(softwareId)) destroyedAt.set(softwareId, String(recorded.data['cancelledAt'] ?? recorded.recordedAt));
  }
  await destroyKeys(
    trx,
    [...destroyedAt].map(([softwareId, at]) => ({ software_id: softwareId, wrapped_key: null, created_at: at, destroyed_at: at })),
  );
}

const destroyKeys = multiRowStatement<KeyVaultSchema, DataKeysTable>(
  { software_id: true, wrapped_key: true, created_at: true, destroyed_at: true },
  (trx, rows) =>
    trx
      .insertInto('data_keys')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('software_id').doUpdateSet((eb) => ({
          wrapped_key: eb.ref('excluded.wrapped_key'),
          destroyed_at: eb.fn.coalesce('data_keys.destroyed_at', eb.ref('excluded.destroyed_at')),
        })),
      ),
);

/** A reactor in the projection registry: no tables of its own, it acts on the key vault's. */
export const keyShreddingReactor: ProjectionDefinition<KeyVaultSchema> = {
  name: 'key-shredding',
  version: 1,
  handles: ['SubscriptionCancelled', 'PerpetualLineCancelled'],
  tables: [],
  migrations: () => ({}),
  apply(trx, recorded) {
    return destroyDataKeys(trx, [recorded]);
  },
  // One upsert per batch instead of one per cancellation: it was 7 % of the worker's folding while
  // cancellations were being answered.
  applyBatch: destroyDataKeys,
};
