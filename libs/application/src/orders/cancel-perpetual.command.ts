import type { Money } from '@csp/domain/shared/money';
import { Command } from '@nestjs/cqrs';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import type { OrderView } from '../views/order.view';

export type CancelledOrderView = OrderView & { credit: Money & { invoicePeriod: string } };

/** Cancels perpetual lines of one order (all of them when no line numbers are given). */
export class CancelPerpetualCommand extends Command<CommandAnswer<CancelledOrderView>> {
  constructor(
    readonly context: CommandContext,
    readonly customerRef: string,
    readonly orderId: string,
    readonly lineItemNumbers?: number[],
  ) {
    super();
  }
}
