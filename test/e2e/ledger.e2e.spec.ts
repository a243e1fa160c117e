import { createHash } from 'node:crypto';
import type request from 'supertest';
import { E2eApp } from '../support/e2e-harness';
import { addYears, installmentsOf } from './support/calendar';
import {
  expectedRefund,
  expectProblem,
  get,
  invalidFields,
  linePrice,
  placeOrder,
  registerCustomer,
  SKU,
  type RegisteredCustomer,
} from './support/e2e-support';

interface Entry {
  id: string;
  kind: string;
  customerId: string;
  orderId?: string;
  subscriptionId?: string;
  supportRequestId?: string;
  amount: { amount: number; currency: string };
  invoicePeriod: string;
  reason: string;
  position: string;
  occurredAt: string;
}

/**
 * The README's checksum, written again here from its description (not with the service's code), as a
 * finance tool would: lines sorted by position (commit, then prepare, as integers), then id; eleven
 * `|`-separated fields; a line feed after every line; SHA-256 in lower-case hex.
 */
function recomputedChecksum(entries: readonly Entry[]): string {
  const numbers = (position: string) => position.split('.').map(BigInt) as [bigint, bigint];
  const sorted = [...entries].sort((a, b) => {
    const [[ac, ap], [bc, bp]] = [numbers(a.position), numbers(b.position)];
    if (ac !== bc) return ac < bc ? -1 : 1;
    if (ap !== bp) return ap < bp ? -1 : 1;
    // One position's entries (README "The checksum"): what precedes the last `:` as text, then the index as an integer.
    const [aSource, aIndex] = [a.id.slice(0, a.id.lastIndexOf(':')), Number(a.id.slice(a.id.lastIndexOf(':') + 1))];
    const [bSource, bIndex] = [b.id.slice(0, b.id.lastIndexOf(':')), Number(b.id.slice(b.id.lastIndexOf(':') + 1))];
    if (aSource !== bSource) return aSource < bSource ? -1 : 1;
    return aIndex - bIndex;
  });
  const lines = sorted.map(
    (entry) =>
      [
        entry.id,
        entry.kind,
        entry.customerId,
        entry.orderId ?? '',
        entry.subscriptionId ?? '',
        entry.supportRequestId ?? '',
        entry.amount.amount,
        entry.amount.currency,
        entry.invoicePeriod,
        entry.position,
        entry.occurredAt,
      ].join('|') + '\n',
  );
  return createHash('sha256').update(lines.join(''), 'utf8').digest('hex');
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /v1/ledger and /v1/ledger/periods/{YYYY-MM}', () => {
  let app: E2eApp;
  let billing: string;
  let customer: RegisteredCustomer;
  let foreign: RegisteredCustomer;
  let lastPosition: string;
  const now = '2026-11-30T08:00:00.000Z';
  // The ledger as it stood after the purchase, before any cancellation, and when that was.
  let middle: { position: string; instant: string; answer: request.Response };
  let orderId: string;
  let monthlyId: string;
  let annualId: string;

  // Expected figures from the catalogue file and SPEC's rules, not from the service.
  const monthlyPrice = linePrice(SKU.datacenter1y, 'DE', 1).amount;
  const monthlyInstallments = installmentsOf(monthlyPrice, 1, 'monthly');
  const annualPrice = linePrice(SKU.standard1y, 'DE', 1).amount;
  const officePrice = linePrice(SKU.office, 'DE', 2).amount;
  const annualRefund = expectedRefund({ termStart: now, termEnd: addYears(now, 1), termPrice: annualPrice, charged: annualPrice, at: now }).refund;
  const monthlyRefund = expectedRefund({
    termStart: now,
    termEnd: addYears(now, 1),
    termPrice: monthlyPrice,
    charged: monthlyInstallments[0]!,
    at: now,
  }).refund;
  const withdrawn = monthlyInstallments.slice(1).reduce((sum, amount) => sum + amount, 0);

  beforeAll(async () => {
    app = await E2eApp.start({ now });
    billing = await app.token({ roles: ['BillingAdmin'] });
    const admin = await app.token({ roles: ['AdminAgent'] });
    customer = await registerCustomer(app);
    const placed = await placeOrder(app, customer.id, [
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'monthly' },
      { skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' },
      { skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' },
    ]);
    orderId = placed.id;
    [monthlyId, annualId] = placed.subscriptionIds as [string, string];

    const answer = await get(app, '/v1/ledger', billing, placed.position);
    expect(answer.status).toBe(200);
    // recordedAt is the store's wall clock in milliseconds: keep a millisecond or more on each side.
    await pause(20);
    middle = { position: placed.position, instant: new Date().toISOString(), answer };
    await pause(20);

    const patch = (path: string) => app.http().patch(path).set('Authorization', admin).send({ status: 'cancelled' });
    expect((await patch(`/v1/customers/${customer.id}/orders/${orderId}`)).status).toBe(200);
    expect((await patch(`/v1/customers/${customer.id}/subscriptions/${annualId}`)).status).toBe(200);
    const last = await patch(`/v1/customers/${customer.id}/subscriptions/${monthlyId}`);
    expect(last.status).toBe(200);

    const otherPartner = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
    foreign = await registerCustomer(app, { token: otherPartner });
    const foreignOrder = await placeOrder(app, foreign.id, [{ skuId: SKU.standard1y, quantity: 3, billingCycle: 'annual' }], otherPartner);
    lastPosition = foreignOrder.position;
  });

  afterAll(() => app.stop());

  const ledger = (query = '', token = billing) => get(app, `/v1/ledger${query}`, token, lastPosition);

  it('answers every entry of the partner: charges in their due month; refunds, credits and voids on the next invoice', async () => {
    const response = await ledger();

    expect(response.status).toBe(200);
    const items = response.body.items as Entry[];
    const summary = items.map((entry) => [entry.kind, entry.subscriptionId ?? entry.orderId, entry.amount.amount, entry.invoicePeriod]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['charge', monthlyId, monthlyInstallments[0], '2026-11'],
        ['charge', annualId, annualPrice, '2026-11'],
        ['credit', orderId, -officePrice, '2026-12'],
        ['refund', annualId, -annualRefund, '2026-12'],
        ['refund', monthlyId, -monthlyRefund, '2026-12'],
        ...monthlyInstallments.slice(1).map((amount) => ['void', monthlyId, -amount, '2026-12']),
      ]),
    );
    expect(items).toHaveLength(5 + 11);
    expect(response.body.totalCount).toBe(16);
    for (const entry of items) {
      expect(entry).toMatchObject({ customerId: customer.id, orderId, amount: { currency: 'EUR' } });
      expect(entry.position).toMatch(/^\d+\.\d+$/);
      expect(entry.reason.length).toBeGreaterThan(0);
      expect(Date.parse(entry.occurredAt)).not.toBeNaN();
    }
    expect(response.body.totals).toEqual([
      {
        currency: 'EUR',
        charges: monthlyInstallments[0]! + annualPrice,
        refunds: -(annualRefund + monthlyRefund),
        credits: -officePrice,
        voids: -withdrawn,
        net: monthlyInstallments[0]! + annualPrice - annualRefund - monthlyRefund - officePrice,
      },
    ]);
    expect(response.body.checksum).toBe(recomputedChecksum(items));
  });

  it("shows another partner's BillingAdmin only that partner's entries", async () => {
    const response = await ledger('', await app.token({ roles: ['BillingAdmin'], tenant: 'partner-2' }));

    expect(response.status).toBe(200);
    expect(response.body.items.map((entry: Entry) => [entry.kind, entry.customerId, entry.amount.amount])).toEqual([
      ['charge', foreign.id, linePrice(SKU.standard1y, 'DE', 3).amount],
    ]);
  });

  it('filters by customer (tenant GUID or domain), invoice period and kind; totals and checksum cover the selection', async () => {
    const byGuid = await ledger(`?customerId=${customer.id}`);
    const byDomain = await ledger(`?customerId=${customer.domain}`);
    const voids = await ledger('?kind=void');
    const november = await ledger('?invoicePeriod=2026-11');
    const decemberRefunds = await ledger('?invoicePeriod=2026-12&kind=refund');

    expect(byDomain.body).toEqual(byGuid.body);
    expect(byGuid.body.totalCount).toBe(16);
    // A customer's entries are found by its events' positions; the other filters narrow those.
    const customerVoids = await ledger(`?customerId=${customer.id}&kind=void`);
    const customerNovember = await ledger(`?customerId=${customer.id}&invoicePeriod=2026-11`);
    expect(customerVoids.body.items.length).toBeGreaterThan(0);
    expect(customerVoids.body.items).toEqual(byGuid.body.items.filter((entry: Entry) => entry.kind === 'void'));
    expect(customerNovember.body.items.length).toBeGreaterThan(0);
    expect(customerNovember.body.items).toEqual(byGuid.body.items.filter((entry: Entry) => entry.invoicePeriod === '2026-11'));
    expect(voids.body.items.map((entry: Entry) => entry.amount.amount)).toEqual(monthlyInstallments.slice(1).map((amount) => -amount));
    expect(voids.body.totals).toEqual([{ currency: 'EUR', charges: 0, refunds: 0, credits: 0, voids: -withdrawn, net: 0 }]);
    expect(november.body.items.map((entry: Entry) => entry.kind)).toEqual(['charge', 'charge']);
    expect(november.body.checksum).toBe(recomputedChecksum(november.body.items));
    expect(decemberRefunds.body.totals).toEqual([
      { currency: 'EUR', charges: 0, refunds: -(annualRefund + monthlyRefund), credits: 0, voids: 0, net: -(annualRefund + monthlyRefund) },
    ]);
  });

  it('pages with continuation tokens; every page carries the totals and checksum of the whole selection', async () => {
    const whole = (await ledger()).body;
    const seen: Entry[] = [];
    let token: string | undefined;
    do {
      const page = await ledger(`?size=5${token ? `&continuationToken=${token}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(5);
      expect([page.body.totalCount, page.body.totals, page.body.checksum]).toEqual([16, whole.totals, whole.checksum]);
      seen.push(...page.body.items);
      token = page.body.continuationToken;
    } while (token);

    expect(seen).toEqual(whole.items);
  });

  it('exports the selection as CSV with a header row and the checksum in X-Ledger-Checksum', async () => {
    const json = (await ledger('?invoicePeriod=2026-12')).body;
    const response = await app
      .http()
      .get('/v1/ledger?invoicePeriod=2026-12')
      .set('Authorization', billing)
      .set('Accept', 'text/csv')
      .set('X-Min-Position', lastPosition);

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['x-ledger-checksum']).toBe(json.checksum);
    const [header, ...rows] = response.text.trimEnd().split('\r\n');
    expect(header).toBe('id,kind,customerId,orderId,subscriptionId,supportRequestId,amount,currency,invoicePeriod,reason,position,occurredAt');
    expect(rows).toHaveLength(json.items.length);
    const parsed = rows.map((row) => {
      const [id, kind, customerId, order, subscription, supportRequestId, amount, currency, invoicePeriod, reason, position, occurredAt] =
        row.split(',');
      return {
        id: id!,
        kind: kind!,
        customerId: customerId!,
        ...(order ? { orderId: order } : {}),
        ...(subscription ? { subscriptionId: subscription } : {}),
        ...(supportRequestId ? { supportRequestId } : {}),
        amount: { amount: Number(amount), currency: currency! },
        invoicePeriod: invoicePeriod!,
        reason: reason!,
        position: position!,
        occurredAt: occurredAt!,
      };
    });
    expect(recomputedChecksum(parsed)).toBe(json.checksum);
    expect(parsed.map((entry) => entry.id)).toEqual(json.items.map((entry: Entry) => entry.id));
  });

  it('answers asOf a position or an instant exactly as the ledger answered then, from the log', async () => {
    const atPosition = await ledger(`?asOf=${middle.position}`);
    const atInstant = await ledger(`?asOf=${encodeURIComponent(middle.instant)}`);
    const beforeAnything = await ledger('?asOf=2000-01-01T00:00:00Z');

    expect(middle.answer.body.items.map((entry: Entry) => entry.kind)).toEqual(['charge', 'charge']);
    expect(atPosition.body).toEqual(middle.answer.body);
    expect(atInstant.body).toEqual(middle.answer.body);
    expect(beforeAnything.body).toEqual({ items: [], totalCount: 0, totals: [], checksum: createHash('sha256').update('').digest('hex') });
    const filtered = await ledger(`?asOf=${middle.position}&kind=void`);
    expect(filtered.body.items).toEqual([]);
  });

  it('reconciles one invoice period per customer and currency', async () => {
    const december = await get(app, '/v1/ledger/periods/2026-12', billing, lastPosition);
    const november = await get(app, '/v1/ledger/periods/2026-11', billing, lastPosition);
    const empty = await get(app, '/v1/ledger/periods/2027-01', billing, lastPosition);

    expect(december.status).toBe(200);
    const decemberTotal = {
      currency: 'EUR',
      charges: 0,
      refunds: -(annualRefund + monthlyRefund),
      credits: -officePrice,
      voids: -withdrawn,
      net: -(annualRefund + monthlyRefund + officePrice),
    };
    expect(december.body).toMatchObject({
      invoicePeriod: '2026-12',
      items: [{ customerId: customer.id, entries: 14, ...decemberTotal }],
      totals: [decemberTotal],
    });
    expect(december.body.checksum).toBe((await ledger('?invoicePeriod=2026-12')).body.checksum);
    expect(november.body.items).toEqual([
      { customerId: customer.id, entries: 2, currency: 'EUR', charges: monthlyInstallments[0]! + annualPrice, refunds: 0, credits: 0, voids: 0, net: monthlyInstallments[0]! + annualPrice },
    ]);
    expect(empty.body).toMatchObject({ invoicePeriod: '2027-01', items: [], totals: [] });
  });

  describe('refusals', () => {
    it.each([
      ['AdminAgent', { roles: ['AdminAgent'] }],
      ['GlobalAdmin', { roles: ['GlobalAdmin'] }],
      ['AccountAdmin', { roles: ['AccountAdmin'] }],
      ["a customer's BillingAdmin", { roles: ['BillingAdmin'], kind: 'customer' }],
    ] as const)('refuses %s with 403 on both paths', async (_who, spec) => {
      const token = await app.token({ ...spec, roles: [...spec.roles], ...('kind' in spec ? { tenant: customer.id } : {}) });
      expectProblem(await get(app, '/v1/ledger', token), 403, 'FORBIDDEN');
      expectProblem(await get(app, '/v1/ledger/periods/2026-12', token), 403, 'FORBIDDEN');
    });

    it('answers 401 without a token', async () => {
      expectProblem(await app.http().get('/v1/ledger'), 401);
      expectProblem(await app.http().get('/v1/ledger/periods/2026-12'), 401);
    });

    it("answers 404 UNKNOWN_CUSTOMER for another partner's customer or an unknown one", async () => {
      expectProblem(await ledger(`?customerId=${foreign.id}`), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await ledger(`?customerId=${foreign.domain}`), 404, 'UNKNOWN_CUSTOMER');
      expectProblem(await ledger('?customerId=00000000-0000-4000-8000-000000000000'), 404, 'UNKNOWN_CUSTOMER');
    });

    it.each([
      ['invoicePeriod=2026-13', 'invoicePeriod'],
      ['invoicePeriod=2026-1', 'invoicePeriod'],
      ['kind=refunds', 'kind'],
      ['asOf=yesterday', 'asOf'],
      ['asOf=2026-02-30T00:00:00Z', 'asOf'],
      ['size=0', 'size'],
      ['currency=EUR', 'currency'],
    ])('answers 400 VALIDATION_FAILED for %s', async (query, field) => {
      const response = await ledger(`?${query}`);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(invalidFields(response)).toContain(field);
    });

    it('answers 400 for a period path that is not YYYY-MM, and for a continuation token it did not issue', async () => {
      const period = await get(app, '/v1/ledger/periods/2026-00', billing);
      expectProblem(period, 400, 'VALIDATION_FAILED');
      expect(invalidFields(period)).toEqual(['invoicePeriod']);
      expectProblem(await ledger('?continuationToken=bm90LWEtbnVtYmVy'), 400, 'INVALID_CONTINUATION_TOKEN');
    });
  });
});
