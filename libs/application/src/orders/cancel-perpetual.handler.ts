import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { createOrderDecider, orderNotFound, type OrderState } from '@csp/domain/order/order.decider';
import { orderStream, type OrderPlaced, type PerpetualLineCancelled } from '@csp/domain/order/order.events';
import { subscriptionDecider } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream } from '@csp/domain/subscription/subscription.events';
import type { EventStore } from '@csp/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { requireRole } from '../auth/authorize';
import { answer } from '../command-handling/command-answer';
import { CommandRunner } from '../command-handling/command-runner';
import { Clock } from '../ports/clock.port';
import { foldRecorded } from '../command-handling/command-runner';
import { EVENT_STORE } from '../tokens';
import { orderView, type SubscriptionLines } from '../views/order.view';
import { CancelPerpetualCommand } from './cancel-perpetual.command';

@CommandHandler(CancelPerpetualCommand)
export class CancelPerpetualHandler implements ICommandHandler<CancelPerpetualCommand> {
  private readonly orderDecider;

  constructor(
    private readonly runner: CommandRunner,
    private readonly customers: CustomerDirectory,
    private readonly clock: Clock,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    catalogue: Catalogue,
  ) {
    this.orderDecider = createOrderDecider(catalogue);
  }

  async execute({ context, customerRef, orderId, lineItemNumbers }: CancelPerpetualCommand) {
    requireRole(context.principal, ['AdminAgent']);
    const customer = await this.customers.forCommand(context.principal, customerRef);
    const outcome = await this.runner.run(
      orderStream(orderId),
      this.orderDecider,
      (state: OrderState) => {
        if (state.status !== 'placed' || state.order.customerId !== customer.customerId) throw orderNotFound();
        // Dated when the stream is read, on every attempt, so it never precedes what is already there.
        const at = this.clock.now();
        return this.orderDecider.decide({ type: 'CancelPerpetual', at, ...(lineItemNumbers ? { lineItemNumbers } : {}) }, state);
      },
      context,
      'CancelPerpetual',
    );
    if (outcome.state.status !== 'placed') throw orderNotFound();
    const cancellations = outcome.events as PerpetualLineCancelled[];
    const first = cancellations[0]!.data;
    const credit = {
      amount: cancellations.reduce((sum, event) => sum + event.data.credit.amount, 0),
      currency: first.credit.currency,
      invoicePeriod: first.invoicePeriod,
    };
    // The view as of the cancellation (the same instant on the first run; the first run's on a repeat).
    const view = orderView(outcome.state, first.cancelledAt, await this.subscriptionLinesOf(outcome.state.order));
    return answer({ ...view, credit }, outcome.position);
  }

  /** The order's stream holds no subscription's progress: each subscription line's own stream does. */
  private async subscriptionLinesOf(order: OrderPlaced['data']): Promise<SubscriptionLines> {
    const lines: Record<string, 'provisioned' | 'cancelled'> = {};
    for (const { subscriptionId } of order.lineItems) {
      if (!subscriptionId) continue;
      const state = foldRecorded(subscriptionDecider, await this.store.readStream(subscriptionStream(subscriptionId)));
      if (state.status !== 'none') lines[subscriptionId] = state.status === 'cancelled' ? 'cancelled' : 'provisioned';
    }
    return lines;
  }
}
