import { customerDecider, type CustomerState } from '@csp/domain/customer/customer.decider';
import { customerStream, type CustomerRegistered } from '@csp/domain/customer/customer.events';
import type { EventStore } from '@csp/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { requireRole } from '../auth/authorize';
import { answer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import { CommandRunner, type StreamStart } from '../command-handling/command-runner';
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
    const at = this.clock.now();
    const decide = (state: CustomerState) =>
      customerDecider.decide({ type: 'RegisterCustomer', ...customer, customerId, partnerId: context.principal.tenantId, at }, state);
    // A tenant already registered is refused by its own stream, without claiming the domain for it.
    if ((await this.store.readStream(customerStream(customerId))).length === 0) {
      const reservation = await this.domains.reservationToStart(customer.domain, customerId, context);
      if (reservation) {
        const registered = await this.registerWithDomain(reservation, customerId, decide, context);
        if (registered) return registered;
        await this.domains.startReservation(reservation, customer.domain, customerId, context);
      }
    }
    const outcome = await this.runner.run(customerStream(customerId), customerDecider, decide, context, 'RegisterCustomer');
    const [registered] = outcome.events as CustomerRegistered[];
    return answer(customerView(registered!.data), outcome.position);
  }

  /**
   * The customer's stream and its domain's reservation in one append, where the log writes several
   * streams at once (see `CommandRunner.startsStreamsAtOnce`): a registration that fails, for want
   * of space or anything else, leaves no domain reserved for a customer that was never registered.
   * Undefined, with nothing appended, where the log cannot or a stream exists after all (a
   * registration racing this one); the streams are then appended one after the other.
   */
  private async registerWithDomain(
    reservation: StreamStart,
    customerId: string,
    decide: (state: CustomerState) => ReturnType<typeof customerDecider.decide>,
    context: CommandContext,
  ) {
    if (!this.runner.startsStreamsAtOnce(context)) return undefined;
    const events = decide(customerDecider.initialState());
    const streams = [reservation, { streamName: customerStream(customerId), events, commandType: 'RegisterCustomer' }];
    const positions = await this.runner.startStreams(streams, context);
    if (!positions) return undefined;
    const [registered] = events as CustomerRegistered[];
    return answer(customerView(registered!.data), positions[1]);
  }
}
