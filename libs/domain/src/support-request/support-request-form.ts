import { DomainError } from '../shared/domain-error';
import type { SupportRequestSubmitted } from './support-request.events';

/** The only problem type SPEC names for cancellations that need more information; a list so more can follow. */
export const SUPPORT_REQUEST_PROBLEM_TYPES: readonly string[] = ['CSP purchase/refund on behalf of customers'];

/** Partner Center's severity levels for a support request, mildest first. */
export const SUPPORT_REQUEST_IMPACTS: readonly string[] = ['minimal', 'moderate', 'important', 'critical'];

/** The form as the partner filled it in (the submitted event without ids, actor and instant). */
export type SupportRequestForm = Pick<
  SupportRequestSubmitted['data'],
  'problemType' | 'impact' | 'title' | 'description' | 'contact' | 'attachments'
>;

export interface FieldError {
  in: 'body';
  field: string;
  messages: string[];
}

// A shape check, not deliverability: one @, no spaces, a dot in the domain part.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// E.164-ish: a leading +, then 7 to 15 digits, single spaces or dashes allowed between digits.
const PHONE = /^\+\d(?:[ -]?\d){6,14}$/;
const CURRENCY = /^[A-Z]{3}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Every field of the form that is missing or malformed, in form order; empty when the form is valid.
 * The attachment limits (count, size, type) are the policy's, not field errors.
 *
 * @example supportRequestFormErrors({ ...form, contact: { ...form.contact, email: 'nope' } })
 *   // [{ in: 'body', field: 'contact.email', messages: ['must be an e-mail address'] }]
 */
export function supportRequestFormErrors(form: SupportRequestForm): FieldError[] {
  const errors: FieldError[] = [];
  const reject = (field: string, message: string): void => {
    errors.push({ in: 'body', field, messages: [message] });
  };
  const { description, contact } = form;

  if (!SUPPORT_REQUEST_PROBLEM_TYPES.includes(form.problemType)) {
    reject('problemType', `must be one of: ${SUPPORT_REQUEST_PROBLEM_TYPES.join(', ')}`);
  }
  if (!SUPPORT_REQUEST_IMPACTS.includes(form.impact)) reject('impact', `must be one of: ${SUPPORT_REQUEST_IMPACTS.join(', ')}`);
  if (isBlank(form.title)) reject('title', 'must not be empty');
  if (isBlank(description.customerId)) reject('description.customerId', 'must not be empty');
  if (isBlank(description.orderId) && isBlank(description.subscriptionId)) {
    reject('description.orderId|description.subscriptionId', 'at least one of them is required');
  }
  if (isBlank(description.refundReason)) reject('description.refundReason', 'must not be empty');
  if (!Number.isSafeInteger(description.requestedAmount.amount) || description.requestedAmount.amount <= 0) {
    reject('description.requestedAmount.amount', 'must be a positive integer count of minor units');
  }
  if (!CURRENCY.test(description.requestedAmount.currency)) {
    reject('description.requestedAmount.currency', 'must be three upper-case letters (ISO 4217)');
  }
  if (isBlank(contact.name)) reject('contact.name', 'must not be empty');
  if (!EMAIL.test(contact.email)) reject('contact.email', 'must be an e-mail address');
  if (!PHONE.test(contact.phone)) reject('contact.phone', 'must be + and 7 to 15 digits (spaces or dashes allowed)');
  form.attachments.forEach((attachment, index) => {
    const at = `attachments[${index}]`;
    if (isBlank(attachment.fileName)) reject(`${at}.fileName`, 'must not be empty');
    if (!Number.isSafeInteger(attachment.size) || attachment.size <= 0) reject(`${at}.size`, 'must be a positive integer');
    if (!SHA256_HEX.test(attachment.sha256)) reject(`${at}.sha256`, 'must be 64 lower-case hex digits');
  });
  return errors;
}

export function invalidSupportRequest(errors: FieldError[]): DomainError {
  return new DomainError(
    'INVALID_SUPPORT_REQUEST',
    'invalid',
    `The support request has invalid fields: ${errors.map((error) => error.field).join(', ')}`,
    { errors },
  );
}

function isBlank(text: string | undefined): boolean {
  return text === undefined || text.trim() === '';
}
