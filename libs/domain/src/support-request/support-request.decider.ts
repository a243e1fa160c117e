import { assertAttachmentsAllowed } from '../policies/support-request-attachments.policy';
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { Money } from '../shared/money';
import { nextInvoicePeriod } from '../shared/time';
import { invalidSupportRequest, supportRequestFormErrors, type SupportRequestForm } from './support-request-form';
import type {
  SupportRequestActor,
  SupportRequestApproved,
  SupportRequestEvent,
  SupportRequestRejected,
  SupportRequestSubmitted,
} from './support-request.events';

export interface SubmitSupportRequest extends SupportRequestForm {
  type: 'SubmitSupportRequest';
  requestId: string;
  partnerId: string;
  submittedBy: SupportRequestActor;
  at: string;
}

export interface ApproveSupportRequest {
  type: 'ApproveSupportRequest';
  /** Absent: the whole requested amount. */
  amount?: Money;
  decidedBy: SupportRequestActor;
  at: string;
}

export interface RejectSupportRequest {
  type: 'RejectSupportRequest';
  reason: string;
  decidedBy: SupportRequestActor;
  at: string;
}

export type SupportRequestCommand = SubmitSupportRequest | ApproveSupportRequest | RejectSupportRequest;

type SubmittedRequest = SupportRequestSubmitted['data'];

export type SupportRequestState =
  | { status: 'none' }
  | { status: 'open'; request: SubmittedRequest }
  | { status: 'approved'; request: SubmittedRequest; approval: SupportRequestApproved['data'] }
  | { status: 'rejected'; request: SubmittedRequest; rejection: SupportRequestRejected['data'] };

export type ExistingSupportRequestState = Exclude<SupportRequestState, { status: 'none' }>;

export function supportRequestNotFound(): DomainError {
  return new DomainError('SUPPORT_REQUEST_NOT_FOUND', 'not_found', 'Support request not found');
}

/**
 * A cancellation support request: a partner submits it, finance (`BillingAdmin`) approves it in
 * full or in part (the approval is what the ledger credits) or rejects it; one decision only.
 *
 * @example
 *   supportRequestDecider.decide({ type: 'ApproveSupportRequest', decidedBy: { userId: 'u-9' }, at }, openState)
 *   // [SupportRequestApproved { approvedAmount: the requested amount, invoicePeriod: the month after `at` }]
 */
export const supportRequestDecider: Decider<SupportRequestCommand, SupportRequestEvent, SupportRequestState> = {
  initialState: () => ({ status: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'SupportRequestSubmitted':
        return { status: 'open', request: event.data };
      case 'SupportRequestApproved':
        return state.status === 'none' ? state : { status: 'approved', request: state.request, approval: event.data };
      case 'SupportRequestRejected':
        return state.status === 'none' ? state : { status: 'rejected', request: state.request, rejection: event.data };
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'SubmitSupportRequest':
        return submit(command, state);
      case 'ApproveSupportRequest':
        return approve(command, openRequest(state));
      case 'RejectSupportRequest':
        return reject(command, openRequest(state));
    }
  },
};

function submit(command: SubmitSupportRequest, state: SupportRequestState): SupportRequestEvent[] {
  if (state.status !== 'none') {
    throw new DomainError('SUPPORT_REQUEST_ALREADY_EXISTS', 'conflict', `Support request ${command.requestId} already exists`);
  }
  const errors = supportRequestFormErrors(command);
  if (errors.length > 0) throw invalidSupportRequest(errors);
  assertAttachmentsAllowed(command.attachments);
  const { description } = command;
  return [
    {
      type: 'SupportRequestSubmitted',
      data: {
        requestId: command.requestId,
        partnerId: command.partnerId,
        submittedBy: command.submittedBy,
        problemType: command.problemType,
        impact: command.impact,
        title: command.title,
        description: {
          customerId: description.customerId,
          ...(description.orderId ? { orderId: description.orderId } : {}),
          ...(description.subscriptionId ? { subscriptionId: description.subscriptionId } : {}),
          refundReason: description.refundReason,
          requestedAmount: description.requestedAmount,
        },
        contact: command.contact,
        attachments: command.attachments,
        submittedAt: command.at,
      },
    },
  ];
}

function openRequest(state: SupportRequestState): SubmittedRequest {
  if (state.status === 'none') throw supportRequestNotFound();
  if (state.status !== 'open') {
    const decidedAt = state.status === 'approved' ? state.approval.decidedAt : state.rejection.decidedAt;
    throw new DomainError('ALREADY_DECIDED', 'conflict', `The support request was already ${state.status}`, {
      status: state.status,
      decidedAt,
    });
  }
  return state.request;
}

function approve(command: ApproveSupportRequest, request: SubmittedRequest): SupportRequestEvent[] {
  const { requestedAmount, customerId, orderId, subscriptionId } = request.description;
  const approvedAmount = command.amount ?? requestedAmount;
  if (approvedAmount.currency !== requestedAmount.currency) {
    throw new DomainError(
      'CURRENCY_MISMATCH',
      'unprocessable',
      `The request asks for ${requestedAmount.currency}, the approval is in ${approvedAmount.currency}`,
      { requestedAmount },
    );
  }
  if (!Number.isSafeInteger(approvedAmount.amount) || approvedAmount.amount <= 0) {
    throw new DomainError('INVALID_AMOUNT', 'unprocessable', 'An approved amount is a positive integer count of minor units');
  }
  if (approvedAmount.amount > requestedAmount.amount) {
    throw new DomainError('AMOUNT_ABOVE_REQUESTED', 'unprocessable', 'The approved amount exceeds the requested amount', {
      requestedAmount,
    });
  }
  return [
    {
      type: 'SupportRequestApproved',
      data: {
        requestId: request.requestId,
        customerId,
        ...(orderId ? { orderId } : {}),
        ...(subscriptionId ? { subscriptionId } : {}),
        partnerId: request.partnerId,
        requestedAmount,
        approvedAmount: { amount: approvedAmount.amount, currency: approvedAmount.currency },
        invoicePeriod: nextInvoicePeriod(command.at),
        decidedBy: command.decidedBy,
        decidedAt: command.at,
      },
    },
  ];
}

function reject(command: RejectSupportRequest, request: SubmittedRequest): SupportRequestEvent[] {
  if (command.reason.trim() === '') {
    throw new DomainError('VALIDATION_FAILED', 'invalid', 'A rejection needs a reason', {
      errors: [{ in: 'body', field: 'reason', messages: ['must not be empty'] }],
    });
  }
  return [
    {
      type: 'SupportRequestRejected',
      data: {
        requestId: request.requestId,
        customerId: request.description.customerId,
        partnerId: request.partnerId,
        reason: command.reason,
        decidedBy: command.decidedBy,
        decidedAt: command.at,
      },
    },
  ];
}
