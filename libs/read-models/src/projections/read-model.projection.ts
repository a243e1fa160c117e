import type { CustomerEvent } from '@csp/domain/customer/customer.events';
import { evolveOrder, type OrderState } from '@csp/domain/order/order.decider';
import type { OrderEvent } from '@csp/domain/order/order.events';
import {
  nextLifecycleDueAt,
  subscriptionDecider,
  type SubscriptionState,
} from '@csp/domain/subscription/subscription.decider';
import type { SubscriptionEvent } from '@csp/domain/subscription/subscription.events';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ReadModelSchema } from '../schema';

type Trx = Transaction<ReadModelSchema>;

/**
 * Folds one event into the read models. Pure with respect to the log: the same events from an
 * empty store give the same rows, so a rebuild from position 0 reproduces them. Orders and
 * subscriptions fold with the domain's own `evolve`, so the read side cannot drift from the rules.
 */
export async function projectReadModels(trx: Trx, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as CustomerEvent | OrderEvent | SubscriptionEvent;
  switch (event.type) {
    case 'CustomerRegistered': {
      const { customerId, partnerId, companyName, domain, country, registeredAt } = event.data;
      await trx
        .insertInto('customers')
        .values({
          id: customerId,
          partner_id: partnerId,
          company_name: storableText(companyName),
          domain: storableText(domain),
          country,
          registered_at: registeredAt,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      return;
    }
    case 'OrderPlaced':
    case 'PerpetualLineCancelled':
      return projectOrder(trx, event);
    case 'SubscriptionStarted':
    case 'InstallmentBilled':
    case 'AutoRenewChanged':
    case 'SubscriptionCancelled':
    case 'InstallmentVoided':
    case 'SubscriptionRenewed':
    case 'SubscriptionExpired':
      return projectSubscription(trx, event);
    default:
      return;
  }
}

async function projectOrder(trx: Trx, event: OrderEvent): Promise<void> {
  const orderId = event.data.orderId;
  const row = await trx.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirst();
  const before: OrderState = row ? (JSON.parse(row.state) as OrderState) : { status: 'none' };
  const after = evolveOrder(before, event);
  if (after.status !== 'placed') return;
  const state = JSON.stringify(after);
  if (row) {
    await trx.updateTable('orders').set({ state }).where('id', '=', orderId).execute();
    return;
  }
  await trx
    .insertInto('orders')
    .values({
      id: orderId,
      customer_id: after.order.customerId,
      partner_id: after.order.partnerId,
      purchased_at: after.order.purchasedAt,
      pending_fulfilment: after.order.lineItems.filter((line) => line.subscriptionId !== null).length,
      state,
    })
    .execute();
}

async function projectSubscription(trx: Trx, event: SubscriptionEvent): Promise<void> {
  const subscriptionId = event.data.subscriptionId;
  const row = await trx.selectFrom('subscriptions').select('state').where('id', '=', subscriptionId).executeTakeFirst();
  const before: SubscriptionState = row ? (JSON.parse(row.state) as SubscriptionState) : subscriptionDecider.initialState();
  const after = subscriptionDecider.evolve(before, event);
  if (after.status === 'none') return;
  const columns = {
    status: after.status,
    next_due_at: nextLifecycleDueAt(after) ?? null,
    state: JSON.stringify(after),
  };
  if (row) {
    await trx.updateTable('subscriptions').set(columns).where('id', '=', subscriptionId).execute();
    return;
  }
  const profile = after.profile;
  await trx
    .updateTable('orders')
    .set((eb) => ({ pending_fulfilment: eb('pending_fulfilment', '-', 1) }))
    .where('id', '=', profile.orderId)
    .execute();
  await trx
    .insertInto('subscriptions')
    .values({
      id: subscriptionId,
      customer_id: profile.customerId,
      partner_id: profile.partnerId,
      order_id: profile.orderId,
      friendly_name: storableText(profile.friendlyName),
      purchased_at: profile.purchasedAt,
      legacy: profile.legacy ? 1 : 0,
      ...columns,
    })
    .execute();
}

/**
 * PostgreSQL text cannot hold NUL, and one event it refuses would stop the projection for every
 * tenant. The api refuses control characters; an event written before that (or by another writer)
 * is folded with NUL replaced. (The JSON `state` column escapes it and keeps the original.)
 */
function storableText(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD');
}
