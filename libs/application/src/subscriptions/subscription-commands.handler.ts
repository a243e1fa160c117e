import {
  subscriptionDecider,
  subscriptionNotFound,
  type CancelSubscription,
  type ToggleAutorenew,
  type SubscriptionState,
} from '@csp/domain/subscription/subscription.decider';
import {
  subscriptionStream,
  type AutoRenewChanged,
  type SubscriptionCancelled,
  type SubscriptionEvent,
} from '@csp/domain/subscription/subscription.events';
import { Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import { SubscriptionDirectory } from '../access/subscription-directory';
import { requireRole } from '../auth/authorize';
import type { Role } from '../auth/principal';
import { answer } from '../command-handling/command-answer';
import { CommandRunner, type CommandOutcome } from '../command-handling/command-runner';
import { SubscriptionLifecycle } from '../fulfilment/subscription-lifecycle';
import { Clock } from '../ports/clock.port';
import { subscriptionView } from '../views/subscription.view';
import { CancelSubscriptionCommand, ToggleAutorenewCommand } from './subscription-commands';

/**
 * `@Injectable()` makes TypeScript emit the constructor's parameter types here; the concrete handlers
 * declare no constructor of their own, so Nest finds their dependencies through this class.
 */
@Injectable()
abstract class SubscriptionCommandHandler {
  constructor(
    protected readonly runner: CommandRunner,
    private readonly customers: CustomerDirectory,
    private readonly subscriptions: SubscriptionDirectory,
    private readonly lifecycle: SubscriptionLifecycle,
    protected readonly clock: Clock,
  ) {}

  /**
   * Decides at the instant the stream is read, on every attempt: a scheduler run that renewed the
   * term meanwhile came before this command, so the command must not be dated before it.
   */
  protected async decideOn(
    target: ToggleAutorenewCommand['target'],
    roles: readonly Role[],
    commandAt: (at: string) => ToggleAutorenew | CancelSubscription,
    commandType: string,
  ): Promise<{ outcome: CommandOutcome<SubscriptionState, SubscriptionEvent>; at: string }> {
    requireRole(target.context.principal, roles);
    const customer = await this.customers.forCommand(target.context.principal, target.customerRef);
    const subscriptionId = await this.subscriptions.resolveId(customer.customerId, target.subscriptionRef);
    let at = this.clock.now();
    const outcome = await this.runner.run(
      subscriptionStream(subscriptionId),
      subscriptionDecider,
      (state: SubscriptionState) => {
        if (state.status === 'none' || state.profile.customerId !== customer.customerId) throw subscriptionNotFound();
        at = this.clock.now();
        const due = this.lifecycle.dueTransitions(state, at);
        const current = due.reduce(subscriptionDecider.evolve, state);
        return [...due, ...subscriptionDecider.decide(commandAt(at), current)];
      },
      target.context,
      commandType,
    );
    return { outcome, at };
  }

  protected view(state: SubscriptionState, at: string) {
    if (state.status === 'none') throw subscriptionNotFound();
    return subscriptionView(state, at);
  }
}

@CommandHandler(ToggleAutorenewCommand)
export class ToggleAutorenewHandler extends SubscriptionCommandHandler implements ICommandHandler<ToggleAutorenewCommand> {
  async execute({ target, autoRenewEnabled }: ToggleAutorenewCommand) {
    const { outcome, at } = await this.decideOn(
      target,
      ['AdminAgent', 'GlobalAdmin'],
      (instant) => ({ type: 'ToggleAutorenew', autoRenewEnabled, at: instant }),
      'ToggleAutorenew',
    );
    // A repeat (same Idempotency-Key) answers as the first run did: the view as of that change.
    const changed = outcome.events.find((event): event is AutoRenewChanged => event.type === 'AutoRenewChanged');
    return answer(this.view(outcome.state, changed?.data.changedAt ?? at), outcome.position);
  }
}

@CommandHandler(CancelSubscriptionCommand)
export class CancelSubscriptionHandler extends SubscriptionCommandHandler implements ICommandHandler<CancelSubscriptionCommand> {
  async execute({ target }: CancelSubscriptionCommand) {
    const { outcome } = await this.decideOn(target, ['AdminAgent'], (at) => ({ type: 'CancelSubscription', at }), 'CancelSubscription');
    const cancelled = outcome.events.find((event): event is SubscriptionCancelled => event.type === 'SubscriptionCancelled')!;
    // The view as of the cancellation (the same instant on the first run; the first run's on a repeat).
    const { refund, usedDays, termDays, usedCost, invoicePeriod } = cancelled.data;
    return answer(
      { ...this.view(outcome.state, cancelled.data.cancelledAt), refund: { ...refund, usedDays, termDays, usedCost, invoicePeriod } },
      outcome.position,
    );
  }
}
