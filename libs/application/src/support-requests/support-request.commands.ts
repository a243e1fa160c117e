import type { Money } from '@csp/domain/shared/money';
import type { SupportRequestContact } from '@csp/domain/support-request/support-request.events';
import { Command } from '@nestjs/cqrs';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import type { SupportRequestView } from './support-request.view';

/** An attachment as the caller sends it: the content travels base64 inside the JSON body. */
export interface UploadedAttachment {
  fileName: string;
  contentType: string;
  contentBase64: string;
}

/** API.md `POST /v1/support-requests`, as sent. */
export interface SupportRequestInput {
  problemType: string;
  impact: string;
  title: string;
  description: {
    /** Tenant GUID or domain of one of the caller's customers. */
    customer: string;
    orderId?: string;
    /** The subscription id or its friendly name. */
    subscriptionId?: string;
    refundReason: string;
    requestedAmount: Money;
  };
  contact: SupportRequestContact;
  attachments?: UploadedAttachment[];
}

export class SubmitSupportRequestCommand extends Command<CommandAnswer<SupportRequestView>> {
  constructor(
    readonly context: CommandContext,
    readonly input: SupportRequestInput,
  ) {
    super();
  }
}

export class ApproveSupportRequestCommand extends Command<CommandAnswer<SupportRequestView>> {
  constructor(
    readonly context: CommandContext,
    readonly requestId: string,
    /** Absent: the whole requested amount. */
    readonly amount?: Money,
  ) {
    super();
  }
}

export class RejectSupportRequestCommand extends Command<CommandAnswer<SupportRequestView>> {
  constructor(
    readonly context: CommandContext,
    readonly requestId: string,
    readonly reason: string,
  ) {
    super();
  }
}
