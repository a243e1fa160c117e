import { Catalogue } from '@csp/domain/catalogue/catalogue';
import type { OrderPlaced } from '@csp/domain/order/order.events';
import { money, type Money } from '@csp/domain/shared/money';
import {
  subscriptionDecider,
  type ExistingSubscriptionState,
  type SubscriptionState,
} from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream, type SubscriptionEvent } from '@csp/domain/subscription/subscription.events';
import { maxPosition, type LogPosition } from '@csp/event-store';
import { Injectable } from '@nestjs/common';
import type { CommandContext } from '../command-handling/command-context';
import { CommandRunner, type CommandOutcome, type StreamStart } from '../command-handling/command-runner';

/**
 * Turns placed orders into subscriptions and moves subscriptions along their calendar. Each step
 * decides on the subscription's own stream with its expected revision, so running a step twice
 * (a retried request, a restarted scheduler) appends nothing the second time.
 */
@Injectable()
export class SubscriptionLifecycle {
  constructor(
    private readonly runner: CommandRunner,
    private readonly catalogue: Catalogue,
  ) {}

  /**
   * Starts the order's subscriptions; returns the last position written or found. `started` collects
   * the subscription ids durable so far, also when a later line fails. `orderIsNew`: the
   * order was placed just now under a fresh id, so its subscriptions' streams (ids derived from it)
   * cannot exist yet and are not read first.
   */
  async fulfil(order: OrderPlaced['data'], context: CommandContext, started: string[] = [], orderIsNew = false): Promise<LogPosition | undefined> {
    let position: LogPosition | undefined;
    for (const line of order.lineItems) {
      if (!line.subscriptionId) continue;
      const outcome = await this.runner.run(
        subscriptionStream(line.subscriptionId),
        subscriptionDecider,
        (state) => subscriptionDecider.decide({ type: 'StartSubscription', order, lineItemNumber: line.lineItemNumber }, state),
        context,
        'StartSubscription',
        { streamIsNew: orderIsNew },
      );
      started.push(line.subscriptionId);
      position = later(position, outcome.position);
    }
    return position;
  }

  /** The first events of the order's subscriptions, each decided on its empty stream. */
  starts(order: OrderPlaced['data']): StreamStart[] {
    return order.lineItems.flatMap((line) =>
      line.subscriptionId
        ? [
            {
              streamName: subscriptionStream(line.subscriptionId),
              events: subscriptionDecider.decide({ type: 'StartSubscription', order, lineItemNumber: line.lineItemNumber }, subscriptionDecider.initialState()),
              commandType: 'StartSubscription',
            },
          ]
        : [],
    );
  }

  /** Appends every renewal, expiry and installment due up to `now`. */
  async advance(subscriptionId: string, now: string, context: CommandContext): Promise<CommandOutcome<SubscriptionState, SubscriptionEvent>> {
    return this.runner.run(
      subscriptionStream(subscriptionId),
      subscriptionDecider,
      (state) => this.dueTransitions(state, now),
      context,
      'AdvanceLifecycle',
    );
  }

  /**
   * The renewals, expiries and installments due at `now` that the stream does not hold yet. The
   * scheduler appends them when it comes by; until then a command on the subscription appends them
   * first, so it is decided on the term that is really current (a renewed term's own 7-day window,
   * an autorenew change after the term ended).
   */
  dueTransitions(state: SubscriptionState, now: string): SubscriptionEvent[] {
    return state.status === 'active'
      ? subscriptionDecider.decide({ type: 'AdvanceLifecycle', now, ...this.renewalPrice(state) }, state)
      : [];
  }

  /** The subscription as it stands at `now`, due transitions applied (nothing is appended). */
  stateAt<State extends SubscriptionState>(state: State, now: string): State {
    return this.dueTransitions(state, now).reduce(subscriptionDecider.evolve, state as SubscriptionState) as State;
  }

  /** Renewals take the catalogue price of the day they are processed, for the customer's market. */
  private renewalPrice(state: ExistingSubscriptionState): { renewalTermPrice?: Money } {
    const { profile } = state;
    const sku = this.catalogue.find(profile.skuId);
    const unitPrice = sku && this.catalogue.priceFor(sku, profile.country);
    return unitPrice ? { renewalTermPrice: money(unitPrice.amount * profile.quantity, unitPrice.currency) } : {};
  }
}

export function later(a: LogPosition | undefined, b: LogPosition | undefined): LogPosition | undefined {
  if (!a) return b;
  if (!b) return a;
  return maxPosition(a, b);
}
