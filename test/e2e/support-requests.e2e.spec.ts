import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { E2eApp } from '../support/e2e-harness';
import { nextMonth } from './support/calendar';
import {
  expectProblem,
  get,
  invalidFields,
  logPosition,
  ofType,
  placeOrder,
  registerCustomer,
  SKU,
  type RegisteredCustomer,
} from './support/e2e-support';

const MiB = 1024 * 1024;
const invoicePdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n', 'utf8');

describe('support requests: POST /v1/support-requests, GET, approve, reject', () => {
  let app: E2eApp;
  let agent: string;
  let billing: string;
  let customer: RegisteredCustomer;
  let orderId: string;
  let subscriptionId: string;
  const attachmentsDir = () => join(app.dataDir, 'attachments');

  beforeAll(async () => {
    app = await E2eApp.start();
    agent = await app.token({ roles: ['AdminAgent'], name: 'Alex Agent' });
    billing = await app.token({ roles: ['BillingAdmin'], name: 'Fiona Finance' });
    customer = await registerCustomer(app);
    const placed = await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' }]);
    orderId = placed.id;
    subscriptionId = placed.subscriptionIds[0]!;
    // Requests below name the customer by its domain, which the read models resolve: read once at the purchase's position.
    await get(app, `/v1/customers/${customer.id}/orders`, agent, placed.position);
  });

  afterAll(() => app.stop());

  const form = (overrides: { description?: object; contact?: object; attachments?: object[]; [member: string]: unknown } = {}) => ({
    problemType: 'CSP purchase/refund on behalf of customers',
    impact: 'moderate',
    title: 'Refund for a mistaken Datacenter purchase',
    ...overrides,
    description: {
      customer: customer.id,
      subscriptionId,
      refundReason: 'Bought the wrong edition',
      requestedAmount: { amount: 10_000, currency: 'EUR' },
      ...overrides.description,
    },
    contact: { name: 'Alex Agent', email: 'alex@partner.example', phone: '+49 30 1234-5678', ...overrides.contact },
    ...(overrides.attachments ? { attachments: overrides.attachments } : {}),
  });
  const submit = (body: object, token = agent) => app.http().post('/v1/support-requests').set('Authorization', token).send(body);
  const decide = (id: string, decision: 'approve' | 'reject', body: object, token = billing) =>
    app.http().post(`/v1/support-requests/${id}/${decision}`).set('Authorization', token).send(body);
  async function openRequest(overrides: Parameters<typeof form>[0] = {}): Promise<string> {
    const response = await submit(form(overrides));
    expect(response.status).toBe(201);
    return response.body.id as string;
  }
  const storedFiles = () => (existsSync(attachmentsDir()) ? readdirSync(attachmentsDir()) : []);

  describe('submit', () => {
    it('opens the request (201), keeps the attachment outside the log under its SHA-256, the event only its facts', async () => {
      const sha256 = createHash('sha256').update(invoicePdf).digest('hex');
      const response = await submit(
        form({ attachments: [{ fileName: 'invoice.pdf', contentType: 'application/pdf', contentBase64: invoicePdf.toString('base64') }] }),
      );

      expect(response.status).toBe(201);
      logPosition(response);
      expect(response.body).toMatchObject({
        id: expect.any(String),
        status: 'open',
        description: { customerId: customer.id, subscriptionId, requestedAmount: { amount: 10_000, currency: 'EUR' } },
        attachments: [{ fileName: 'invoice.pdf', contentType: 'application/pdf', size: invoicePdf.length, sha256 }],
        submittedBy: { userId: 'user-AdminAgent', userName: 'Alex Agent' },
      });
      expect(response.body.decision).toBeUndefined();
      const file = join(attachmentsDir(), sha256);
      expect(readFileSync(file)).toEqual(invoicePdf);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(attachmentsDir()).mode & 0o777).toBe(0o700);
      const [submitted] = ofType(await app.events(), 'SupportRequestSubmitted').filter((event) => event.data['requestId'] === response.body.id);
      expect(JSON.stringify(submitted!.data)).not.toContain(invoicePdf.toString('base64'));
    });

    it('takes the customer by domain and an order instead of a subscription', async () => {
      const response = await submit(form({ description: { customer: customer.domain, subscriptionId: undefined, orderId } }));

      expect(response.status).toBe(201);
      expect(response.body.description).toEqual({
        customerId: customer.id,
        orderId,
        refundReason: 'Bought the wrong edition',
        requestedAmount: { amount: 10_000, currency: 'EUR' },
      });
    });

    it('takes a file of exactly 5 MiB: the body limit of this route fits the attachment policy', async () => {
      const content = Buffer.alloc(5 * MiB, 'a');
      const response = await submit(form({ attachments: [{ fileName: 'log.txt', contentType: 'text/plain', contentBase64: content.toString('base64') }] }));

      expect(response.status).toBe(201);
      expect(response.body.attachments[0].size).toBe(5 * MiB);
    });

    it('refuses a submission without a bearer token 401 before reading its body', async () => {
      const content = Buffer.alloc(MiB, 'a');
      const body = form({ attachments: [{ fileName: 'log.txt', contentType: 'text/plain', contentBase64: content.toString('base64') }] });
      expectProblem(await app.http().post('/v1/support-requests').send(body), 401, 'UNAUTHENTICATED');
      expect(storedFiles().filter((file) => file === createHash('sha256').update(content).digest('hex'))).toEqual([]);
    });

    it('keeps the small body limit of every other route', async () => {
      expectProblem(await app.http().post(`/v1/customers/${customer.id}/orders`).set('Authorization', agent).send({ note: 'n'.repeat(300_000) }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['six files', Array.from({ length: 6 }, (_, index) => ({ fileName: `f${index}.txt`, contentType: 'text/plain', contentBase64: 'aGk=' })), 'TOO_MANY_ATTACHMENTS'],
      ['an executable', [{ fileName: 'setup.exe', contentType: 'application/x-msdownload', contentBase64: 'TVo=' }], 'ATTACHMENT_TYPE_NOT_ALLOWED'],
      ['a file of 5 MiB and one byte', [{ fileName: 'big.txt', contentType: 'text/plain', contentBase64: Buffer.alloc(5 * MiB + 1, 'b').toString('base64') }], 'ATTACHMENT_TOO_LARGE'],
    ])('refuses %s with 422, writing no file', async (_case, attachments, code) => {
      const before = storedFiles();
      expectProblem(await submit(form({ attachments })), 422, code);
      expect(storedFiles()).toEqual(before);
    });

    it.each([
      ['malformed base64', { attachments: [{ fileName: 'a.txt', contentType: 'text/plain', contentBase64: 'not base64!' }] }, 'attachments[0].contentBase64'],
      ['an e-mail without @', { contact: { email: 'alex.partner.example' } }, 'contact.email'],
      ['a phone without +', { contact: { phone: '030 1234567' } }, 'contact.phone'],
      ['an unknown problem type', { problemType: 'Billing question' }, 'problemType'],
      ['a fractional amount', { description: { requestedAmount: { amount: 10.5, currency: 'EUR' } } }, 'description.requestedAmount.amount'],
      ['neither order nor subscription', { description: { subscriptionId: undefined } }, 'description.orderId|description.subscriptionId'],
      ['an unknown member', { urgent: true }, 'urgent'],
    ])('answers 400 VALIDATION_FAILED for %s', async (_case, overrides, field) => {
      const response = await submit(form(overrides));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain(field);
    });

    it('answers 404 for a customer of another partner, an unknown order and a subscription of another customer', async () => {
      const otherAgent = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
      const foreign = await registerCustomer(app, { token: otherAgent });
      const other = await registerCustomer(app);
      const othersOrder = await placeOrder(app, other.id, [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }]);

      expectProblem(await submit(form({ description: { customer: foreign.id } })), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await submit(form({ description: { customer: foreign.domain } })), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await submit(form({ description: { subscriptionId: undefined, orderId: othersOrder.id } })), 404, 'ORDER_NOT_FOUND');
      expectProblem(await submit(form({ description: { subscriptionId: undefined, orderId: 'no-such-order' } })), 404, 'ORDER_NOT_FOUND');
      expectProblem(await submit(form({ description: { subscriptionId: othersOrder.subscriptionIds[0] } })), 404, 'SUBSCRIPTION_NOT_FOUND');
    });

    it.each(['BillingAdmin', 'GlobalAdmin'] as const)('refuses a %s with 403', async (role) => {
      expectProblem(await submit(form(), await app.token({ roles: [role] })), 403, 'FORBIDDEN');
    });
  });

  describe('read', () => {
    it("answers AdminAgent and BillingAdmin of the partner; another partner's users 404; other roles 403", async () => {
      const id = await openRequest();

      for (const token of [agent, billing]) {
        const response = await get(app, `/v1/support-requests/${id}`, token);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ id, status: 'open', title: 'Refund for a mistaken Datacenter purchase' });
      }
      const otherBilling = await app.token({ roles: ['BillingAdmin'], tenant: 'partner-2' });
      expectProblem(await get(app, `/v1/support-requests/${id}`, otherBilling), 404, 'SUPPORT_REQUEST_NOT_FOUND');
      expectProblem(await get(app, '/v1/support-requests/00000000-0000-4000-8000-000000000000', billing), 404, 'SUPPORT_REQUEST_NOT_FOUND');
      expectProblem(await get(app, `/v1/support-requests/${id}`, await app.token({ roles: ['GlobalAdmin'] })), 403, 'FORBIDDEN');
      expectProblem(await app.http().get(`/v1/support-requests/${id}`), 401);
    });
  });

  describe('decide', () => {
    const creditsOf = async (requestId: string, position: string) => {
      const response = await get(app, '/v1/ledger?kind=credit', billing, position);
      return (response.body.items as { supportRequestId?: string; amount: { amount: number }; invoicePeriod: string }[]).filter(
        (entry) => entry.supportRequestId === requestId,
      );
    };

    it('approves part of the amount (200 with the decision) and credits exactly that on the next invoice', async () => {
      const id = await openRequest();

      const response = await decide(id, 'approve', { amount: { amount: 2_500, currency: 'EUR' } });

      expect(response.status).toBe(200);
      const decidedAt = response.body.decision.decidedAt as string;
      expect(response.body).toMatchObject({
        id,
        status: 'approved',
        decision: {
          status: 'approved',
          approvedAmount: { amount: 2_500, currency: 'EUR' },
          invoicePeriod: nextMonth(decidedAt),
          decidedBy: { userId: 'user-BillingAdmin', userName: 'Fiona Finance' },
        },
      });
      const credits = await creditsOf(id, logPosition(response));
      expect(credits.map((entry) => [entry.amount.amount, entry.invoicePeriod])).toEqual([[-2_500, nextMonth(decidedAt)]]);
      expect((await get(app, `/v1/support-requests/${id}`, agent)).body).toEqual(response.body);
    });

    it('approves the whole requested amount when none is given; a second decision is 409 ALREADY_DECIDED', async () => {
      const id = await openRequest();

      const approved = await decide(id, 'approve', {});
      expect(approved.status).toBe(200);
      expect(approved.body.decision.approvedAmount).toEqual({ amount: 10_000, currency: 'EUR' });

      expectProblem(await decide(id, 'approve', {}), 409, 'ALREADY_DECIDED');
      expectProblem(await decide(id, 'reject', { reason: 'changed my mind' }), 409, 'ALREADY_DECIDED');
      expect(await creditsOf(id, logPosition(approved))).toHaveLength(1);
    });

    it('rejects with a reason (200), crediting nothing; then no approval', async () => {
      const id = await openRequest();

      const rejected = await decide(id, 'reject', { reason: 'Outside the refund policy' });

      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', decision: { status: 'rejected', reason: 'Outside the refund policy' } });
      expectProblem(await decide(id, 'approve', {}), 409, 'ALREADY_DECIDED');
      expect(await creditsOf(id, logPosition(rejected))).toEqual([]);
    });

    it('refuses an amount above the request, in another currency, malformed, or a rejection without reason', async () => {
      const id = await openRequest();

      expectProblem(await decide(id, 'approve', { amount: { amount: 10_001, currency: 'EUR' } }), 422, 'AMOUNT_ABOVE_REQUESTED');
      expectProblem(await decide(id, 'approve', { amount: { amount: 100, currency: 'USD' } }), 422, 'CURRENCY_MISMATCH');
      const malformed = await decide(id, 'approve', { amount: { amount: -1, currency: 'EUR' } });
      expectProblem(malformed, 400, 'VALIDATION_FAILED');
      expect(invalidFields(malformed)).toContain('amount.amount');
      expectProblem(await decide(id, 'reject', {}), 400, 'VALIDATION_FAILED');
      expect((await get(app, `/v1/support-requests/${id}`, billing)).body.status).toBe('open');
    });

    it("refuses an AdminAgent (403), and answers 404 for another partner's request or an unknown one", async () => {
      const id = await openRequest();
      const otherBilling = await app.token({ roles: ['BillingAdmin'], tenant: 'partner-2' });

      expectProblem(await decide(id, 'approve', {}, agent), 403, 'FORBIDDEN');
      expectProblem(await decide(id, 'reject', { reason: 'no' }, agent), 403, 'FORBIDDEN');
      expectProblem(await decide(id, 'approve', {}, otherBilling), 404, 'SUPPORT_REQUEST_NOT_FOUND');
      expectProblem(await decide('00000000-0000-4000-8000-000000000000', 'approve', {}), 404, 'SUPPORT_REQUEST_NOT_FOUND');
    });

    it('credits once under 20 concurrent approvals: one 200, nineteen 409 ALREADY_DECIDED', async () => {
      const id = await openRequest();

      const responses = await Promise.all(Array.from({ length: 20 }, () => decide(id, 'approve', {})));

      const ok = responses.filter((response) => response.status === 200);
      expect(ok).toHaveLength(1);
      for (const response of responses.filter((candidate) => candidate.status !== 200)) expectProblem(response, 409, 'ALREADY_DECIDED');
      const approvals = ofType(await app.events(), 'SupportRequestApproved').filter((event) => event.data['requestId'] === id);
      expect(approvals).toHaveLength(1);
      expect(await creditsOf(id, logPosition(ok[0]!))).toHaveLength(1);
    });
  });
});
