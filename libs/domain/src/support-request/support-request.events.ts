import type { DomainEvent } from '../shared/event';
import type { Money } from '../shared/money';

export const supportRequestStream = (requestId: string): string => `support-request-${requestId}`;

/** Who submitted or decided: the partner user from the token. */
export interface SupportRequestActor {
  userId: string;
  userName?: string;
}

export interface SupportRequestDescription {
  /** The customer's tenant GUID; the application resolves a domain to it before deciding. */
  customerId: string;
  orderId?: string;
  subscriptionId?: string;
  refundReason: string;
  requestedAmount: Money;
}

export interface SupportRequestContact {
  name: string;
  email: string;
  phone: string;
}

/** An attachment as the log knows it: the content is stored elsewhere, addressed by its hash. */
export interface SupportRequestAttachment {
  fileName: string;
  contentType: string;
  /** Bytes. */
  size: number;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
}

export type SupportRequestSubmitted = DomainEvent<
  'SupportRequestSubmitted',
  {
    requestId: string;
    partnerId: string;
    submittedBy: SupportRequestActor;
    problemType: string;
    impact: string;
    title: string;
    description: SupportRequestDescription;
    contact: SupportRequestContact;
    attachments: SupportRequestAttachment[];
    submittedAt: string;
  }
>;

export type SupportRequestApproved = DomainEvent<
  'SupportRequestApproved',
  {
    requestId: string;
    customerId: string;
    orderId?: string;
    subscriptionId?: string;
    partnerId: string;
    requestedAmount: Money;
    /** At most the requested amount; credited on `invoicePeriod`. */
    approvedAmount: Money;
    /** The month after the approval: credits land on the next monthly invoice. */
    invoicePeriod: string;
    decidedBy: SupportRequestActor;
    decidedAt: string;
  }
>;

export type SupportRequestRejected = DomainEvent<
  'SupportRequestRejected',
  {
    requestId: string;
    customerId: string;
    partnerId: string;
    reason: string;
    decidedBy: SupportRequestActor;
    decidedAt: string;
  }
>;

export type SupportRequestEvent = SupportRequestSubmitted | SupportRequestApproved | SupportRequestRejected;
