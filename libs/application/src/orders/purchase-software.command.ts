import type { RequestedLine } from '@csp/domain/order/order.decider';
import { Command } from '@nestjs/cqrs';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import type { OrderView } from '../views/order.view';

/**
 * A purchase on behalf of a customer. With `backfillPurchasedAt` it is an Importer's backfill of a
 * historic purchase, dated as it really happened; every transition due since then follows at once.
 */
export class PurchaseSoftwareCommand extends Command<CommandAnswer<OrderView>> {
  constructor(
    readonly context: CommandContext,
    readonly customerRef: string,
    readonly lineItems: RequestedLine[],
    readonly backfillPurchasedAt?: string,
  ) {
    super();
  }
}
