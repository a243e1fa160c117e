import { deciderSpecification } from '@csp/testing/decider-specification';
import { money } from '../shared/money';
import { supportRequestDecider, type SubmitSupportRequest } from './support-request.decider';
import type { SupportRequestAttachment, SupportRequestEvent, SupportRequestSubmitted } from './support-request.events';

const spec = deciderSpecification(supportRequestDecider);

const submittedAt = '2026-03-10T09:00:00.000Z';
const decidedAt = '2026-03-31T23:59:59.000Z';
const finance = { userId: 'billing-1', userName: 'Fiona Finance' };
const pdf: SupportRequestAttachment = {
  fileName: 'invoice.pdf',
  contentType: 'application/pdf',
  size: 1024,
  sha256: 'a'.repeat(64),
};

function submitCommand(overrides: Partial<SubmitSupportRequest> = {}): SubmitSupportRequest {
  return {
    type: 'SubmitSupportRequest',
    requestId: 'req-1',
    partnerId: 'partner-1',
    submittedBy: { userId: 'agent-1', userName: 'Alex Agent' },
    problemType: 'CSP purchase/refund on behalf of customers',
    impact: 'moderate',
    title: 'Refund for a mistaken Datacenter purchase',
    description: {
      customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
      subscriptionId: 'sub-1',
      refundReason: 'Bought the wrong edition',
      requestedAmount: money(10_000, 'EUR'),
    },
    contact: { name: 'Alex Agent', email: 'alex@partner.example', phone: '+49 30 1234-5678' },
    attachments: [pdf],
    at: submittedAt,
    ...overrides,
  };
}

const submitted: SupportRequestSubmitted = {
  type: 'SupportRequestSubmitted',
  data: {
    requestId: 'req-1',
    partnerId: 'partner-1',
    submittedBy: { userId: 'agent-1', userName: 'Alex Agent' },
    problemType: 'CSP purchase/refund on behalf of customers',
    impact: 'moderate',
    title: 'Refund for a mistaken Datacenter purchase',
    description: {
      customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
      subscriptionId: 'sub-1',
      refundReason: 'Bought the wrong edition',
      requestedAmount: money(10_000, 'EUR'),
    },
    contact: { name: 'Alex Agent', email: 'alex@partner.example', phone: '+49 30 1234-5678' },
    attachments: [pdf],
    submittedAt,
  },
};

const approvedInFull: SupportRequestEvent = {
  type: 'SupportRequestApproved',
  data: {
    requestId: 'req-1',
    customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
    subscriptionId: 'sub-1',
    partnerId: 'partner-1',
    requestedAmount: money(10_000, 'EUR'),
    approvedAmount: money(10_000, 'EUR'),
    invoicePeriod: '2026-04',
    decidedBy: finance,
    decidedAt,
  },
};

const rejected: SupportRequestEvent = {
  type: 'SupportRequestRejected',
  data: {
    requestId: 'req-1',
    customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
    partnerId: 'partner-1',
    reason: 'Outside the refund policy',
    decidedBy: finance,
    decidedAt,
  },
};

function fieldsOf(error: { details: Record<string, unknown> }): string[] {
  return (error.details['errors'] as { field: string }[]).map((fieldError) => fieldError.field);
}

describe('SubmitSupportRequest', () => {
  it('opens the request with the form, the submitter and the instant', () => {
    spec.given([]).when(submitCommand()).then([submitted]);
  });

  it('accepts an order id alone, and omits the absent subscription id from the event', () => {
    const [event] = spec
      .given([])
      .when(submitCommand({ description: { ...submitCommand().description, subscriptionId: undefined, orderId: 'order-1' } }))
      .thenEvents() as [SupportRequestSubmitted];
    expect(event.data.description.orderId).toBe('order-1');
    expect('subscriptionId' in event.data.description).toBe(false);
  });

  it('accepts no attachments at all', () => {
    const [event] = spec.given([]).when(submitCommand({ attachments: [] })).thenEvents() as [SupportRequestSubmitted];
    expect(event.data.attachments).toEqual([]);
  });

  it('refuses a second submission under the same id', () => {
    spec.given([submitted]).when(submitCommand()).thenThrows('SUPPORT_REQUEST_ALREADY_EXISTS');
  });

  it.each([
    ['an unknown problem type', { problemType: 'Billing question' }, 'problemType'],
    ['an impact outside the list', { impact: 'urgent' }, 'impact'],
    ['an empty title', { title: '  ' }, 'title'],
  ])('refuses %s', (_case, overrides, field) => {
    const error = spec.given([]).when(submitCommand(overrides)).thenThrows('INVALID_SUPPORT_REQUEST');
    expect(error.category).toBe('invalid');
    expect(fieldsOf(error)).toEqual([field]);
  });

  it.each(['minimal', 'moderate', 'important', 'critical'])('takes the impact %s', (impact) => {
    const [event] = spec.given([]).when(submitCommand({ impact })).thenEvents() as [SupportRequestSubmitted];
    expect(event.data.impact).toBe(impact);
  });

  it.each([
    ['no customer', { customerId: '' }, 'description.customerId'],
    ['neither order nor subscription', { subscriptionId: undefined }, 'description.orderId|description.subscriptionId'],
    ['a blank order id and no subscription', { subscriptionId: undefined, orderId: ' ' }, 'description.orderId|description.subscriptionId'],
    ['no refund reason', { refundReason: '' }, 'description.refundReason'],
    ['a zero amount', { requestedAmount: money(0, 'EUR') }, 'description.requestedAmount.amount'],
    ['a negative amount', { requestedAmount: money(-5, 'EUR') }, 'description.requestedAmount.amount'],
    ['a fractional amount', { requestedAmount: { amount: 10.5, currency: 'EUR' } }, 'description.requestedAmount.amount'],
    ['a lower-case currency', { requestedAmount: money(100, 'eur') }, 'description.requestedAmount.currency'],
    ['a four-letter currency', { requestedAmount: money(100, 'EURO') }, 'description.requestedAmount.currency'],
  ])('refuses a description with %s', (_case, overrides, field) => {
    const description = { ...submitCommand().description, ...overrides };
    const error = spec.given([]).when(submitCommand({ description })).thenThrows('INVALID_SUPPORT_REQUEST');
    expect(fieldsOf(error)).toEqual([field]);
  });

  it.each([
    ['no name', { name: '' }, 'contact.name'],
    ['an e-mail without @', { email: 'alex.partner.example' }, 'contact.email'],
    ['an e-mail without a dot in the domain', { email: 'alex@localhost' }, 'contact.email'],
    ['an e-mail with a space', { email: 'alex smith@partner.example' }, 'contact.email'],
    ['a phone without +', { phone: '0049301234567' }, 'contact.phone'],
    ['a phone with 6 digits', { phone: '+123456' }, 'contact.phone'],
    ['a phone with 16 digits', { phone: '+1234567890123456' }, 'contact.phone'],
    ['a phone with letters', { phone: '+49 30 CALL-NOW' }, 'contact.phone'],
    ['a phone with two separators in a row', { phone: '+49  301234567' }, 'contact.phone'],
  ])('refuses a contact with %s', (_case, overrides, field) => {
    const contact = { ...submitCommand().contact, ...overrides };
    const error = spec.given([]).when(submitCommand({ contact })).thenThrows('INVALID_SUPPORT_REQUEST');
    expect(fieldsOf(error)).toEqual([field]);
  });

  it.each(['+1234567', '+123456789012345', '+49-30-1234-5678', '+1 555 010 0199'])('takes the phone %s', (phone) => {
    const contact = { ...submitCommand().contact, phone };
    expect(spec.given([]).when(submitCommand({ contact })).thenEvents()).toHaveLength(1);
  });

  it('lists every invalid field at once, in form order', () => {
    const error = spec
      .given([])
      .when(
        submitCommand({
          impact: 'urgent',
          contact: { name: 'A', email: 'nope', phone: '12' },
          attachments: [{ ...pdf, fileName: '', sha256: 'ABC' }],
        }),
      )
      .thenThrows('INVALID_SUPPORT_REQUEST');
    expect(fieldsOf(error)).toEqual([
      'impact',
      'contact.email',
      'contact.phone',
      'attachments[0].fileName',
      'attachments[0].sha256',
    ]);
  });

  it('refuses an attachment with no bytes', () => {
    const error = spec
      .given([])
      .when(submitCommand({ attachments: [{ ...pdf, size: 0 }] }))
      .thenThrows('INVALID_SUPPORT_REQUEST');
    expect(fieldsOf(error)).toEqual(['attachments[0].size']);
  });

  it('takes five attachments and refuses six', () => {
    const five = Array.from({ length: 5 }, (_, index) => ({ ...pdf, fileName: `page-${index}.pdf` }));
    expect(spec.given([]).when(submitCommand({ attachments: five })).thenEvents()).toHaveLength(1);
    const error = spec
      .given([])
      .when(submitCommand({ attachments: [...five, pdf] }))
      .thenThrows('TOO_MANY_ATTACHMENTS', { maxAttachments: 5, attachments: 6 });
    expect(error.category).toBe('unprocessable');
  });

  it('takes an attachment of exactly 5 MiB and refuses one byte more', () => {
    const fiveMiB = 5 * 1024 * 1024;
    expect(spec.given([]).when(submitCommand({ attachments: [{ ...pdf, size: fiveMiB }] })).thenEvents()).toHaveLength(1);
    spec
      .given([])
      .when(submitCommand({ attachments: [{ ...pdf, size: fiveMiB + 1 }] }))
      .thenThrows('ATTACHMENT_TOO_LARGE', { fileName: 'invoice.pdf', size: fiveMiB + 1, maxBytes: fiveMiB });
  });

  it.each(['application/pdf', 'image/png', 'image/jpeg', 'text/plain', 'Text/Plain; charset=utf-8'])(
    'takes an attachment of type %s',
    (contentType) => {
      expect(spec.given([]).when(submitCommand({ attachments: [{ ...pdf, contentType }] })).thenEvents()).toHaveLength(1);
    },
  );

  it.each(['application/zip', 'application/x-msdownload', 'image/svg+xml', 'text/html', ''])(
    'refuses an attachment of type "%s"',
    (contentType) => {
      spec
        .given([])
        .when(submitCommand({ attachments: [{ ...pdf, contentType }] }))
        .thenThrows('ATTACHMENT_TYPE_NOT_ALLOWED', { fileName: 'invoice.pdf', contentType });
    },
  );

  it('reports field errors before attachment limits', () => {
    const six = Array.from({ length: 6 }, () => pdf);
    spec
      .given([])
      .when(submitCommand({ title: '', attachments: six }))
      .thenThrows('INVALID_SUPPORT_REQUEST');
  });
});

describe('ApproveSupportRequest', () => {
  it('approves the whole requested amount by default, credited on the invoice after the month of approval', () => {
    spec.given([submitted]).when({ type: 'ApproveSupportRequest', decidedBy: finance, at: decidedAt }).then([approvedInFull]);
  });

  it('approves part of the amount', () => {
    const [event] = spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', amount: money(2_500, 'EUR'), decidedBy: finance, at: decidedAt })
      .thenEvents();
    expect(event).toEqual({
      ...approvedInFull,
      data: { ...approvedInFull.data, approvedAmount: money(2_500, 'EUR') },
    });
  });

  it('approves exactly the requested amount when it is given', () => {
    const [event] = spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', amount: money(10_000, 'EUR'), decidedBy: finance, at: decidedAt })
      .thenEvents();
    expect(event).toEqual(approvedInFull);
  });

  it('credits January of the next year for an approval on the last second of December', () => {
    const [event] = spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', decidedBy: finance, at: '2026-12-31T23:59:59.000Z' })
      .thenEvents();
    expect(event!.data).toMatchObject({ invoicePeriod: '2027-01', decidedAt: '2026-12-31T23:59:59.000Z' });
  });

  it('carries an order id instead of a subscription id when the request named an order', () => {
    const byOrder: SupportRequestSubmitted = {
      ...submitted,
      data: { ...submitted.data, description: { ...submitted.data.description, subscriptionId: undefined, orderId: 'order-1' } },
    };
    delete byOrder.data.description.subscriptionId;
    const [event] = spec.given([byOrder]).when({ type: 'ApproveSupportRequest', decidedBy: finance, at: decidedAt }).thenEvents();
    expect(event!.data).toMatchObject({ orderId: 'order-1' });
    expect('subscriptionId' in event!.data).toBe(false);
  });

  it('refuses more than was requested', () => {
    spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', amount: money(10_001, 'EUR'), decidedBy: finance, at: decidedAt })
      .thenThrows('AMOUNT_ABOVE_REQUESTED', { requestedAmount: money(10_000, 'EUR') });
  });

  it('refuses another currency', () => {
    spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', amount: money(5_000, 'USD'), decidedBy: finance, at: decidedAt })
      .thenThrows('CURRENCY_MISMATCH');
  });

  it.each([
    ['zero', 0],
    ['a negative amount', -100],
    ['a fraction of a minor unit', 99.5],
  ])('refuses %s', (_case, amount) => {
    const error = spec
      .given([submitted])
      .when({ type: 'ApproveSupportRequest', amount: { amount, currency: 'EUR' }, decidedBy: finance, at: decidedAt })
      .thenThrows('INVALID_AMOUNT');
    expect(error.category).toBe('unprocessable');
  });

  it('refuses an unknown request', () => {
    const error = spec
      .given([])
      .when({ type: 'ApproveSupportRequest', decidedBy: finance, at: decidedAt })
      .thenThrows('SUPPORT_REQUEST_NOT_FOUND');
    expect(error.category).toBe('not_found');
  });

  it.each([
    ['approved', approvedInFull],
    ['rejected', rejected],
  ])('refuses a second decision once %s, whatever the amount', (status, decision) => {
    const error = spec
      .given([submitted, decision])
      .when({ type: 'ApproveSupportRequest', amount: money(20_000, 'EUR'), decidedBy: finance, at: '2026-04-02T00:00:00.000Z' })
      .thenThrows('ALREADY_DECIDED', { status, decidedAt });
    expect(error.category).toBe('conflict');
  });
});

describe('RejectSupportRequest', () => {
  it('rejects with the reason', () => {
    spec
      .given([submitted])
      .when({ type: 'RejectSupportRequest', reason: 'Outside the refund policy', decidedBy: finance, at: decidedAt })
      .then([rejected]);
  });

  it('refuses an empty reason', () => {
    const error = spec
      .given([submitted])
      .when({ type: 'RejectSupportRequest', reason: ' ', decidedBy: finance, at: decidedAt })
      .thenThrows('VALIDATION_FAILED');
    expect(fieldsOf(error)).toEqual(['reason']);
  });

  it('refuses an unknown request', () => {
    spec
      .given([])
      .when({ type: 'RejectSupportRequest', reason: 'No', decidedBy: finance, at: decidedAt })
      .thenThrows('SUPPORT_REQUEST_NOT_FOUND');
  });

  it.each([
    ['approved', approvedInFull],
    ['rejected', rejected],
  ])('refuses a second decision once %s', (status, decision) => {
    spec
      .given([submitted, decision])
      .when({ type: 'RejectSupportRequest', reason: 'Changed my mind', decidedBy: finance, at: decidedAt })
      .thenThrows('ALREADY_DECIDED', { status });
  });
});

describe('evolve', () => {
  it('keeps the request and its decision', () => {
    const approved = [submitted, approvedInFull].reduce(supportRequestDecider.evolve, supportRequestDecider.initialState());
    expect(approved).toEqual({ status: 'approved', request: submitted.data, approval: approvedInFull.data });
    const refused = [submitted, rejected].reduce(supportRequestDecider.evolve, supportRequestDecider.initialState());
    expect(refused).toEqual({ status: 'rejected', request: submitted.data, rejection: rejected.data });
  });
});
