import type { Money } from '@csp/domain/shared/money';
import type { ExistingSupportRequestState } from '@csp/domain/support-request/support-request.decider';
import type {
  SupportRequestActor,
  SupportRequestAttachment,
  SupportRequestContact,
  SupportRequestDescription,
} from '@csp/domain/support-request/support-request.events';

export type SupportRequestDecisionView =
  | { status: 'approved'; approvedAmount: Money; invoicePeriod: string; decidedBy: SupportRequestActor; decidedAt: string }
  | { status: 'rejected'; reason: string; decidedBy: SupportRequestActor; decidedAt: string };

/** A support request and, once decided, its decision. */
export interface SupportRequestView {
  id: string;
  status: 'open' | 'approved' | 'rejected';
  problemType: string;
  impact: string;
  title: string;
  description: SupportRequestDescription;
  contact: SupportRequestContact;
  /** What the log keeps of each file; the bytes are stored apart, under their SHA-256. */
  attachments: SupportRequestAttachment[];
  submittedBy: SupportRequestActor;
  submittedAt: string;
  decision?: SupportRequestDecisionView;
}

export function supportRequestView(state: ExistingSupportRequestState): SupportRequestView {
  const { request } = state;
  const view: SupportRequestView = {
    id: request.requestId,
    status: state.status,
    problemType: request.problemType,
    impact: request.impact,
    title: request.title,
    description: request.description,
    contact: request.contact,
    attachments: request.attachments,
    submittedBy: request.submittedBy,
    submittedAt: request.submittedAt,
  };
  if (state.status === 'approved') {
    const { approvedAmount, invoicePeriod, decidedBy, decidedAt } = state.approval;
    view.decision = { status: 'approved', approvedAmount, invoicePeriod, decidedBy, decidedAt };
  }
  if (state.status === 'rejected') {
    const { reason, decidedBy, decidedAt } = state.rejection;
    view.decision = { status: 'rejected', reason, decidedBy, decidedAt };
  }
  return view;
}
