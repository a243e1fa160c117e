/**
 * Helpers for the concurrency, bad-input, restart, lifecycle and backfill e2e tests.
 *
 * Expected values are computed here from SPEC.md's formulas and the real catalogue file, on purpose
 * without the domain's own helpers (addMonths, proratedRefund, ...), so a wrong rule in production
 * code cannot make its own test pass.
 */
import type { E2eApp } from '@csp/testing/e2e-harness';
import type { RecordedEvent } from '@csp/event-store';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DAY_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------

interface CatalogueSku {
  skuId: string;
  publisher: string;
  kind: string;
  termDuration?: 'P1Y' | 'P3Y';
  billingCycles: string[];
  prices: Record<string, { amount: number; currency: string }>;
}

const catalogue: CatalogueSku[] = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'data', 'catalogue.json'), 'utf8')) as { skus: CatalogueSku[] }
).skus;

/** Real SKU ids from data/catalogue.json. */
export const SKU = {
  /** ServerSubscription, P1Y, annual or monthly. */
  datacenterP1Y: 'windows-server-2022-datacenter-2core:P1Y',
  /** ServerSubscription, P1Y, annual or monthly. */
  standardP1Y: 'windows-server-2022-standard-2core:P1Y',
  /** ServerSubscription, P3Y, annual or triennial. */
  sqlStandardP3Y: 'sql-server-2022-standard-2core:P3Y',
  /** SoftwareSubscription, P1Y, monthly only. */
  rdsCal: 'windows-rds-cal-2022-user:P1Y',
  /** PerpetualSoftware, oneTime. */
  officeLtsc: 'office-ltsc-professional-plus-2021:PERPETUAL',
  /** RedHat: never cancellable. */
  rhelP1Y: 'rhel-server-1-4-vcpu:P1Y',
} as const;

export function catalogueSku(skuId: string): CatalogueSku {
  const sku = catalogue.find((candidate) => candidate.skuId === skuId);
  if (!sku) throw new Error(`test fixture: ${skuId} is not in data/catalogue.json`);
  return sku;
}

/** Unit price of one whole term (perpetual: once) in a market, straight from the catalogue file. */
export function unitPrice(skuId: string, country: string): { amount: number; currency: string } {
  const price = catalogueSku(skuId).prices[country];
  if (!price) throw new Error(`test fixture: ${skuId} has no price in ${country}`);
  return price;
}

export function termYears(skuId: string): number {
  return catalogueSku(skuId).termDuration === 'P3Y' ? 3 : 1;
}

// ---------------------------------------------------------------------------------------------
// Calendar and money, from SPEC.md
// ---------------------------------------------------------------------------------------------

/** Calendar months in UTC, clamped to the month end (Jan 31 + 1 month = Feb 28/29), time of day kept. */
export function plusMonths(instant: string, months: number): string {
  const d = new Date(instant);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(year, month, Math.min(d.getUTCDate(), daysInMonth), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
  ).toISOString();
}

export function plusMs(instant: string, ms: number): string {
  return new Date(Date.parse(instant) + ms).toISOString();
}

export function plusDays(instant: string, days: number): string {
  return plusMs(instant, days * DAY_MS);
}

export const iso = (instant: string): string => new Date(instant).toISOString();

/** Installments of one term: monthly 12 per year, annual 1 per year, triennial 1; remainder cents on the first. */
export function installmentsOf(termPrice: number, years: number, cycle: 'monthly' | 'annual' | 'triennial'): number[] {
  const count = cycle === 'monthly' ? 12 * years : cycle === 'annual' ? years : 1;
  const base = Math.floor(termPrice / count);
  return Array.from({ length: count }, (_, index) => (index === 0 ? termPrice - base * (count - 1) : base));
}

export function monthsBetweenInstallments(years: number, cycle: 'monthly' | 'annual' | 'triennial'): number {
  return cycle === 'monthly' ? 1 : cycle === 'annual' ? 12 : 12 * years;
}

/** round_half_even(numerator / denominator) for non-negative integers. */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

/**
 * SPEC "Cancel a software subscription": usedDays = ceil((t - termStart) / 1 day), at least 1;
 * usedCost = round_half_even(termPrice × usedDays / termDays); refund = max(0, charged - usedCost).
 */
export function expectedRefund(input: { termStart: string; termEnd: string; termPrice: number; charged: number; at: string }): {
  usedDays: number;
  termDays: number;
  usedCost: number;
  refund: number;
} {
  const usedDays = Math.max(1, Math.ceil((Date.parse(input.at) - Date.parse(input.termStart)) / DAY_MS));
  const termDays = Math.round((Date.parse(input.termEnd) - Date.parse(input.termStart)) / DAY_MS);
  const usedCost = Number(roundHalfEven(BigInt(input.termPrice) * BigInt(usedDays), BigInt(termDays)));
  return { usedDays, termDays, usedCost, refund: Math.max(0, input.charged - usedCost) };
}

/** The commit part of an `X-Log-Position` (`<commit>.<prepare>`), for ordering. */
export function commitOf(position: string): bigint {
  const match = /^(\d+)\.(\d+)$/.exec(position);
  if (!match) throw new Error(`not a log position: ${position}`);
  return BigInt(match[1]!);
}

// ---------------------------------------------------------------------------------------------
// HTTP shortcuts
// ---------------------------------------------------------------------------------------------

export interface LineRequest {
  skuId: string;
  quantity: number;
  billingCycle: 'monthly' | 'annual' | 'triennial' | 'oneTime';
  friendlyName?: string;
}

let customerCounter = 0;

/** A fresh tenant GUID per call, so tests in one app never collide. */
export function newCustomerId(): string {
  customerCounter++;
  const hex = (customerCounter + Math.floor(Math.random() * 0xffff) * 0x10000).toString(16).padStart(12, '0').slice(-12);
  return `5a1c0e2b-7d44-4c1a-9b3e-${hex}`;
}

export async function registerCustomer(
  app: E2eApp,
  authorization: string,
  options: { id?: string; country?: string; companyName?: string } = {},
): Promise<string> {
  const id = options.id ?? newCustomerId();
  await app
    .http()
    .post('/v1/customers')
    .set('Authorization', authorization)
    .send({
      id,
      companyName: options.companyName ?? `Customer ${id.slice(-6)}`,
      domain: `c${id.slice(-12)}.example.com`,
      country: options.country ?? 'DE',
    })
    .expect(201);
  return id;
}

export interface PlacedOrder {
  id: string;
  position: string;
  body: {
    id: string;
    lineItems: Array<{ lineItemNumber: number; skuId: string; subscriptionId?: string; price: { amount: number; currency: string } }>;
  };
  subscriptionIds: string[];
}

export async function placeOrder(app: E2eApp, authorization: string, customerId: string, lineItems: LineRequest[]): Promise<PlacedOrder> {
  const response = await app
    .http()
    .post(`/v1/customers/${customerId}/orders`)
    .set('Authorization', authorization)
    .send({ lineItems });
  if (response.status !== 201) throw new Error(`order refused: ${response.status} ${JSON.stringify(response.body)}`);
  return {
    id: response.body.id,
    position: response.headers['x-log-position'],
    body: response.body,
    subscriptionIds: (response.body.lineItems as Array<{ subscriptionId?: string }>)
      .map((line) => line.subscriptionId)
      .filter((id): id is string => id !== undefined),
  };
}

export async function getSubscription(app: E2eApp, authorization: string, customerId: string, subscriptionId: string, minPosition?: string) {
  const request = app.http().get(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', authorization);
  if (minPosition) request.set('X-Min-Position', minPosition);
  const response = await request;
  if (response.status !== 200) throw new Error(`GET subscription: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

// ---------------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------------

export function ofType(events: readonly RecordedEvent[], type: string, subscriptionId?: string): RecordedEvent[] {
  return events.filter((event) => event.type === type && (subscriptionId === undefined || event.data['subscriptionId'] === subscriptionId));
}

/** Problem documents: status, media type and a stable code. */
export function expectProblem(response: { status: number; headers: Record<string, string>; body: { code?: unknown; status?: unknown } }, status: number, code?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(typeof response.body.code).toBe('string');
  expect(response.body.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  expect(response.body.status).toBe(status);
  if (code) expect(response.body.code).toBe(code);
  expect(response.headers['x-log-position']).toBeUndefined();
}

// ---------------------------------------------------------------------------------------------
// What the calendar implies
// ---------------------------------------------------------------------------------------------

export interface CalendarOutcome {
  /** Term numbers started by a renewal (2, 3, ...). */
  renewals: number[];
  expiredAt?: string;
  /** `term.sequence` of every installment due by `now`. */
  installments: string[];
  termNumber: number;
}

/**
 * SPEC "Terms, renewal, expiry": term start = purchase, term end = start + term length, the next
 * term starts at the previous end; installments fall due every `gap` months from each term start;
 * at term end an autorenewing subscription renews, otherwise it expires.
 */
export function calendarUntil(input: {
  purchasedAt: string;
  years: number;
  cycle: 'monthly' | 'annual' | 'triennial';
  autoRenew: boolean;
  now: string;
}): CalendarOutcome {
  const now = Date.parse(input.now);
  const count = installmentsOf(1_000_000, input.years, input.cycle).length;
  const gap = monthsBetweenInstallments(input.years, input.cycle);
  const outcome: CalendarOutcome = { renewals: [], installments: [], termNumber: 1 };
  let start = iso(input.purchasedAt);
  for (let term = 1; ; term++) {
    outcome.termNumber = term;
    for (let index = 0; index < count; index++) {
      if (Date.parse(plusMonths(start, index * gap)) <= now) outcome.installments.push(`${term}.${index + 1}`);
    }
    const end = plusMonths(start, 12 * input.years);
    if (Date.parse(end) > now) return outcome;
    if (!input.autoRenew) {
      outcome.expiredAt = end;
      return outcome;
    }
    outcome.renewals.push(term + 1);
    start = end;
  }
}
