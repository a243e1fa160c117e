import { evolveOrder, orderNotFound, type OrderState } from '@csp/domain/order/order.decider';
import { orderStream, type OrderEvent } from '@csp/domain/order/order.events';
import { DomainError } from '@csp/domain/shared/domain-error';
import { subscriptionDecider, subscriptionNotFound } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream } from '@csp/domain/subscription/subscription.events';
import { supportRequestFormErrors } from '@csp/domain/support-request/support-request-form';
import {
  supportRequestDecider,
  supportRequestNotFound,
  type SubmitSupportRequest,
  type SupportRequestCommand,
  type SupportRequestState,
} from '@csp/domain/support-request/support-request.decider';
import { supportRequestStream, type SupportRequestActor } from '@csp/domain/support-request/support-request.events';
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { EventStore } from '@csp/event-store';
import { createHash } from 'node:crypto';
import { CustomerDirectory } from '../access/customer-directory';
import { SubscriptionDirectory } from '../access/subscription-directory';
import { requireRole } from '../auth/authorize';
import type { Principal } from '../auth/principal';
import { answer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import { CommandRunner, foldRecorded } from '../command-handling/command-runner';
import { idempotencyScope } from '../command-handling/idempotency-scope';
import { Clock } from '../ports/clock.port';
import { deterministicId, IdGenerator } from '../ports/id-generator.port';
import { EVENT_STORE } from '../tokens';
import { AttachmentStore } from './attachment-store.port';
import {
  ApproveSupportRequestCommand,
  RejectSupportRequestCommand,
  SubmitSupportRequestCommand,
} from './support-request.commands';
import { supportRequestView } from './support-request.view';

export function actorOf(principal: Principal): SupportRequestActor {
  return principal.name ? { userId: principal.userId, userName: principal.name } : { userId: principal.userId };
}

@CommandHandler(SubmitSupportRequestCommand)
export class SubmitSupportRequestHandler implements ICommandHandler<SubmitSupportRequestCommand> {
  constructor(
    private readonly runner: CommandRunner,
    private readonly customers: CustomerDirectory,
    private readonly subscriptions: SubscriptionDirectory,
    private readonly attachments: AttachmentStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ context, input }: SubmitSupportRequestCommand) {
    const { principal } = context;
    requireRole(principal, ['AdminAgent']);
    const customer = await this.customers.forCommand(principal, input.description.customer);
    const orderId = input.description.orderId;
    if (orderId !== undefined) await this.requireOrderOf(customer.customerId, orderId);
    const subscriptionId =
      input.description.subscriptionId === undefined
        ? undefined
        : await this.requireSubscriptionOf(customer.customerId, input.description.subscriptionId);
    const contents = (input.attachments ?? []).map((attachment) => Buffer.from(attachment.contentBase64, 'base64'));
    // A retry with the same key must land on the same stream, where the log answers it.
    const requestId = context.idempotency
      ? deterministicId('support-request', idempotencyScope(context), context.idempotency.key)
      : this.ids.newId();
    const command: SubmitSupportRequest = {
      type: 'SubmitSupportRequest',
      requestId,
      partnerId: principal.tenantId,
      submittedBy: actorOf(principal),
      problemType: input.problemType,
      impact: input.impact,
      title: input.title,
      description: {
        customerId: customer.customerId,
        ...(orderId !== undefined ? { orderId } : {}),
        ...(subscriptionId !== undefined ? { subscriptionId } : {}),
        refundReason: input.description.refundReason,
        requestedAmount: input.description.requestedAmount,
      },
      contact: input.contact,
      attachments: (input.attachments ?? []).map((attachment, index) => ({
        fileName: attachment.fileName,
        contentType: attachment.contentType,
        size: contents[index]!.length,
        sha256: createHash('sha256').update(contents[index]!).digest('hex'),
      })),
      at: this.clock.now(),
    };
    const errors = supportRequestFormErrors(command);
    if (errors.length > 0) {
      throw new DomainError('VALIDATION_FAILED', 'invalid', `Invalid fields: ${errors.map((error) => error.field).join(', ')}`, { errors });
    }
    // Decided once dry, before any file is written: a refused request (too many or too large files,
    // a type not allowed) leaves nothing behind. The decision the log keeps is the runner's below.
    supportRequestDecider.decide(command, supportRequestDecider.initialState());
    for (const [index, attachment] of command.attachments.entries()) await this.attachments.put(attachment.sha256, contents[index]!);
    const outcome = await this.runner.run(
      supportRequestStream(requestId),
      supportRequestDecider,
      (state: SupportRequestState) => supportRequestDecider.decide(command, state),
      context,
      'SubmitSupportRequest',
    );
    if (outcome.state.status === 'none') throw supportRequestNotFound();
    return answer(supportRequestView(outcome.state), outcome.position);
  }

  private async requireOrderOf(customerId: string, orderId: string): Promise<void> {
    const recorded = await this.store.readStream(orderStream(orderId));
    const state = recorded.reduce<OrderState>(
      (current, event) => evolveOrder(current, { type: event.type, data: event.data } as unknown as OrderEvent),
      { status: 'none' },
    );
    if (state.status !== 'placed' || state.order.customerId !== customerId) throw orderNotFound();
  }

  /** The subscription's own stream decides, not a lagging read model; a friendly name is resolved first. */
  private async requireSubscriptionOf(customerId: string, subscriptionRef: string): Promise<string> {
    const subscriptionId = await this.subscriptions.resolveId(customerId, subscriptionRef);
    const state = foldRecorded(subscriptionDecider, await this.store.readStream(subscriptionStream(subscriptionId)));
    if (state.status === 'none' || state.profile.customerId !== customerId) throw subscriptionNotFound();
    return subscriptionId;
  }
}

/**
 * `@Injectable()` makes TypeScript emit the constructor's parameter types here; the concrete handlers
 * declare no constructor of their own, so Nest finds their dependencies through this class.
 */
@Injectable()
abstract class SupportRequestDecisionHandler {
  constructor(
    private readonly runner: CommandRunner,
    private readonly clock: Clock,
  ) {}

  /**
   * Finance decides on its own partner's requests only; another partner's answers 404, so request ids
   * do not leak. A second decision, also one racing the first, meets the first in the stream: 409.
   */
  protected async decide(context: CommandContext, requestId: string, commandAt: (at: string) => SupportRequestCommand, commandType: string) {
    requireRole(context.principal, ['BillingAdmin']);
    const outcome = await this.runner.run(
      supportRequestStream(requestId),
      supportRequestDecider,
      (state: SupportRequestState) => {
        if (state.status === 'none' || state.request.partnerId !== context.principal.tenantId) throw supportRequestNotFound();
        return supportRequestDecider.decide(commandAt(this.clock.now()), state);
      },
      context,
      commandType,
    );
    if (outcome.state.status === 'none') throw supportRequestNotFound();
    return answer(supportRequestView(outcome.state), outcome.position);
  }
}

@CommandHandler(ApproveSupportRequestCommand)
export class ApproveSupportRequestHandler extends SupportRequestDecisionHandler implements ICommandHandler<ApproveSupportRequestCommand> {
  execute({ context, requestId, amount }: ApproveSupportRequestCommand) {
    return this.decide(
      context,
      requestId,
      (at) => ({ type: 'ApproveSupportRequest', ...(amount ? { amount } : {}), decidedBy: actorOf(context.principal), at }),
      'ApproveSupportRequest',
    );
  }
}

@CommandHandler(RejectSupportRequestCommand)
export class RejectSupportRequestHandler extends SupportRequestDecisionHandler implements ICommandHandler<RejectSupportRequestCommand> {
  execute({ context, requestId, reason }: RejectSupportRequestCommand) {
    return this.decide(
      context,
      requestId,
      (at) => ({ type: 'RejectSupportRequest', reason, decidedBy: actorOf(context.principal), at }),
      'RejectSupportRequest',
    );
  }
}
