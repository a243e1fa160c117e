import { customerDecider } from '@csp/domain/customer/customer.decider';
import { customerStream, type CustomerRegistered } from '@csp/domain/customer/customer.events';
import type { EventStore } from '@csp/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { requireRole } from '../auth/authorize';
import { answer } from '../command-handling/command-answer';
import { CommandRunner } from '../command-handling/command-runner';
import { Clock } from '../ports/clock.port';
import { EVENT_STORE } from '../tokens';
import { customerView } from '../views/customer.view';
import { PrimaryDomains } from './primary-domains';
import { RegisterCustomerCommand } from './register-customer.command';

@CommandHandler(RegisterCustomerCommand)
export class RegisterCustomerHandler implements ICommandHandler<RegisterCustomerCommand> {
  constructor(
    private readonly runner: CommandRunner,
    private readonly clock: Clock,
    private readonly domains: PrimaryDomains,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ context, customer }: RegisterCustomerCommand) {
    requireRole(context.principal, ['AdminAgent', 'GlobalAdmin']);
    const customerId = customer.id.toLowerCase();
    // A tenant already registered is refused by its own stream, without claiming the domain for it.
    if ((await this.store.readStream(customerStream(customerId))).length === 0) {
      await this.domains.reserve(customer.domain, customerId, context);
    }
    const outcome = await this.runner.run(
      customerStream(customerId),
      customerDecider,
      (state) =>
        customerDecider.decide(
          { type: 'RegisterCustomer', ...customer, customerId, partnerId: context.principal.tenantId, at: this.clock.now() },
          state,
        ),
      context,
      'RegisterCustomer',
    );
    const [registered] = outcome.events as CustomerRegistered[];
    return answer(customerView(registered!.data), outcome.position);
  }
}
