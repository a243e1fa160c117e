import { DomainError } from '@csp/domain/shared/domain-error';
import { subscriptionNotFound } from '@csp/domain/subscription/subscription.decider';
import type { ReadModelDb } from '@csp/read-models';
import { Inject, Injectable } from '@nestjs/common';
import { READ_MODEL_DB } from '../tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A subscription is named by its id or, within its customer, by its friendly name. */
@Injectable()
export class SubscriptionDirectory {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  async resolveId(customerId: string, subscriptionRef: string): Promise<string> {
    if (UUID.test(subscriptionRef)) return subscriptionRef.toLowerCase();
    const matches = await this.db
      .selectFrom('subscriptions')
      .select('id')
      .where('customer_id', '=', customerId)
      .where('friendly_name', '=', subscriptionRef)
      .execute();
    if (matches.length > 1) {
      throw new DomainError(
        'AMBIGUOUS_SUBSCRIPTION',
        'conflict',
        `Several subscriptions are named ${subscriptionRef}; use the subscription id`,
      );
    }
    if (matches.length === 0) throw subscriptionNotFound();
    return matches[0]!.id;
  }
}
