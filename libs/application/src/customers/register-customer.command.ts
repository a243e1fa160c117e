import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../command-handling/command-context';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CustomerView } from '../views/customer.view';

export class RegisterCustomerCommand extends Command<CommandAnswer<CustomerView>> {
  constructor(
    readonly context: CommandContext,
    readonly customer: { id: string; companyName: string; domain: string; country: string },
  ) {
    super();
  }
}
