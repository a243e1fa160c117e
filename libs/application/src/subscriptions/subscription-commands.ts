import type { Money } from '@csp/domain/shared/money';
import { Command } from '@nestjs/cqrs';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import type { SubscriptionView } from '../views/subscription.view';

interface SubscriptionTarget {
  context: CommandContext;
  customerRef: string;
  /** The subscription id or its friendly name. */
  subscriptionRef: string;
}

export class ToggleAutorenewCommand extends Command<CommandAnswer<SubscriptionView>> {
  constructor(
    readonly target: SubscriptionTarget,
    readonly autoRenewEnabled: boolean,
  ) {
    super();
  }
}

export class CancelSubscriptionCommand extends Command<CommandAnswer<SubscriptionView & { refund: Money }>> {
  constructor(readonly target: SubscriptionTarget) {
    super();
  }
}
