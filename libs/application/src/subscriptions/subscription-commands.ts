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

/** What finance needs of a cancellation: the prorated refund, how it was reached, and the invoice it lands on. */
export type CancellationRefund = Money & { usedDays: number; termDays: number; usedCost: Money; invoicePeriod: string };

export class CancelSubscriptionCommand extends Command<CommandAnswer<SubscriptionView & { refund: CancellationRefund }>> {
  constructor(readonly target: SubscriptionTarget) {
    super();
  }
}
