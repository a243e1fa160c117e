import type { RecordedEvent } from '@csp/event-store';
import type { E2eApp } from '../../support/e2e-harness';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type request from 'supertest';
import { DAY_MS, nextMonth } from './calendar';

/**
 * Shared helpers for the e2e suites: real catalogue ids and prices (read straight from the data
 * file, not from the service), the refund oracle, customer registration and purchases, reading the
 * log, and the problem+json assertions every error answer must pass. Calendar arithmetic lives in
 * ./calendar.
 *
 * Expected values are computed here from SPEC.md's formulas and the real catalogue file, on purpose
 * without the domain's own helpers (proration, installments, ...), so a wrong rule in production
 * code cannot make its own test pass.
 */

/** Real SKU ids from data/catalogue.json. */
export const SKU = {
  /** ServerSubscription, P1Y, annual or monthly. */
  datacenter1y: 'windows-server-2022-datacenter-2core:P1Y',
  datacenter3y: 'windows-server-2022-datacenter-2core:P3Y',
  /** ServerSubscription, P1Y, annual or monthly. */
  standard1y: 'windows-server-2022-standard-2core:P1Y',
  sqlStandard1y: 'sql-server-2022-standard-2core:P1Y',
  /** ServerSubscription, P3Y, annual or triennial. */
  sqlStandard3y: 'sql-server-2022-standard-2core:P3Y',
  /** SoftwareSubscription, P1Y, monthly only. */
  rdsCal: 'windows-rds-cal-2022-user:P1Y',
  userCal: 'windows-server-2022-user-cal:P1Y',
  /** PerpetualSoftware, oneTime. */
  office: 'office-ltsc-professional-plus-2021:PERPETUAL',
  /** RedHat: never cancellable. */
  rhel1y: 'rhel-server-1-4-vcpu:P1Y',
  rhel3y: 'rhel-server-1-4-vcpu:P3Y',
  sles1y: 'sles-priority-1-2-vcpu:P1Y',
  azure1y: 'azure-reserved-vm-d2s-v5:P1Y',
} as const;

export interface Money {
  amount: number;
  currency: string;
}

interface CatalogueEntry {
  skuId: string;
  productId: string;
  title: string;
  publisher: string;
  kind: string;
  termDuration?: string;
  billingCycles: string[];
  prices: Record<string, Money>;
  deliversKeys: boolean;
  cancellable: boolean;
}

let catalogueCache: CatalogueEntry[] | undefined;

/** The catalogue file the service loads, read independently of the service. */
export function catalogue(): CatalogueEntry[] {
  catalogueCache ??= (
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'data', 'catalogue.json'), 'utf8')) as { skus: CatalogueEntry[] }
  ).skus;
  return catalogueCache;
}

export function catalogueEntry(skuId: string): CatalogueEntry {
  const entry = catalogue().find((sku) => sku.skuId === skuId);
  if (!entry) throw new Error(`test setup: ${skuId} is not in data/catalogue.json`);
  return entry;
}

/** One unit for one whole term (perpetual: once) in a market, as the catalogue file says. */
export function unitPrice(skuId: string, country: string): Money {
  const price = catalogueEntry(skuId).prices[country];
  if (!price) throw new Error(`test setup: ${skuId} has no price in ${country}`);
  return price;
}

/** Length of one term in years (P3Y: 3, everything else: 1). */
export function termYears(skuId: string): number {
  return catalogueEntry(skuId).termDuration === 'P3Y' ? 3 : 1;
}

export function linePrice(skuId: string, country: string, quantity: number): Money {
  const unit = unitPrice(skuId, country);
  return { amount: unit.amount * quantity, currency: unit.currency };
}

/** Round half to even of numerator / denominator, exactly (SPEC: usedCost). */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator) return quotient + 1n;
  if (twiceRemainder === denominator) return quotient % 2n === 0n ? quotient : quotient + 1n;
  return quotient;
}

/**
 * SPEC "Cancel a software subscription":
 * usedDays = ceil((t - termStart) / 1 day), at least 1; usedCost = round_half_even(termPrice × usedDays / termDays);
 * refund = max(0, charged - usedCost).
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

/**
 * A subscription cancellation's `refund` as the answer shows it: the refund, the used days and cost
 * it came from, and the invoice it lands on (the month after the cancellation).
 */
export function refundAnswer(expected: ReturnType<typeof expectedRefund>, at: string, currency = 'EUR') {
  return {
    amount: expected.refund,
    currency,
    usedDays: expected.usedDays,
    termDays: expected.termDays,
    usedCost: { amount: expected.usedCost, currency },
    invoicePeriod: nextMonth(at),
  };
}

export function newTenantId(): string {
  return randomUUID();
}

export interface LineItemRequest {
  skuId: string;
  quantity: number;
  billingCycle: string;
  friendlyName?: string;
}

export interface RegisteredCustomer {
  id: string;
  domain: string;
  companyName: string;
  country: string;
  position: string;
}

/** Registers a fresh customer (a new tenant GUID) for the token's partner; expects 201. */
export async function registerCustomer(
  app: E2eApp,
  options: { token?: string; country?: string; id?: string; companyName?: string; domain?: string } = {},
): Promise<RegisteredCustomer> {
  const token = options.token ?? (await app.token({ roles: ['AdminAgent'] }));
  const id = options.id ?? newTenantId();
  const short = id.slice(0, 8);
  const body = {
    id,
    companyName: options.companyName ?? `Company ${short}`,
    domain: options.domain ?? `c${short}.onmicrosoft.com`,
    country: options.country ?? 'DE',
  };
  const response = await app.http().post('/v1/customers').set('Authorization', token).send(body);
  if (response.status !== 201) throw new Error(`registerCustomer: ${response.status} ${JSON.stringify(response.body)}`);
  return { ...body, position: String(response.headers['x-log-position']) };
}

/** POST an order (after `position` when given: a customer named by domain or company name); no expectation on the status. */
export async function postOrder(
  app: E2eApp,
  customerId: string,
  lineItems: LineItemRequest[],
  token?: string,
  position?: string,
): Promise<request.Response> {
  const call = app
    .http()
    .post(`/v1/customers/${customerId}/orders`)
    .set('Authorization', token ?? (await app.token({ roles: ['AdminAgent'] })));
  return (position ? call.set('X-Min-Position', position) : call).send({ lineItems });
}

/** Buys and expects 201. */
export async function buy(app: E2eApp, customerId: string, lineItems: LineItemRequest[], token?: string): Promise<request.Response> {
  const response = await postOrder(app, customerId, lineItems, token);
  if (response.status !== 201) throw new Error(`buy: ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export interface PlacedOrder {
  id: string;
  /** The answer's X-Log-Position. */
  position: string;
  /** The subscription ids of the subscription lines, in line order (perpetual lines have none). */
  subscriptionIds: string[];
}

/** Buys (expects 201) and picks out the order id, the position and the new subscription ids. */
export async function placeOrder(app: E2eApp, customerId: string, lineItems: LineItemRequest[], token?: string): Promise<PlacedOrder> {
  const response = await buy(app, customerId, lineItems, token);
  return {
    id: response.body.id,
    position: response.headers['x-log-position'],
    subscriptionIds: (response.body.lineItems as Array<{ subscriptionId?: string }>).flatMap((line) => line.subscriptionId ?? []),
  };
}

/** POST a raw (not JSON-encoded) body with the given Content-Type; no expectation on the status. */
export function postRaw(app: E2eApp, path: string, token: string, contentType: string, body: string): request.Test {
  return app.http().post(path).set('Authorization', token).set('Content-Type', contentType).send(body);
}

/** A GET that waits for `position` (read-your-writes) when given. */
export async function get(app: E2eApp, path: string, token: string, position?: string): Promise<request.Response> {
  const call = app.http().get(path).set('Authorization', token);
  return position ? call.set('X-Min-Position', position) : call;
}

/** GET one subscription (after `position` when given) and expects 200; answers the body. */
export async function getSubscription(app: E2eApp, customerId: string, subscriptionId: string, token: string, position?: string) {
  const response = await get(app, `/v1/customers/${customerId}/subscriptions/${subscriptionId}`, token, position);
  if (response.status !== 200) throw new Error(`getSubscription: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Every error: application/problem+json with type, title, status, detail and a stable upper-case
 * code (the given one, when given), and no X-Log-Position.
 */
export function expectProblem(response: request.Response, status: number, code?: string): void {
  const expectedCode = code ?? expect.stringMatching(/^[A-Z][A-Z0-9_]*$/);
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code: expectedCode });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code: expectedCode,
  });
  expect(response.body.type.length).toBeGreaterThan(0);
  expect(response.headers['x-log-position']).toBeUndefined();
}

/** The fields a VALIDATION_FAILED answer lists. */
export function invalidFields(response: request.Response): string[] {
  return ((response.body.errors ?? []) as { field: string }[]).map((error) => error.field);
}

/** X-Log-Position is present and looks like a position. */
export function logPosition(response: request.Response): string {
  const position = response.headers['x-log-position'];
  expect(typeof position).toBe('string');
  expect(position).toMatch(/^\d+\.\d+$/);
  return position as string;
}

/** The commit part of an `X-Log-Position` (`<commit>.<prepare>`), for ordering. */
export function commitOf(position: string): bigint {
  const match = /^(\d+)\.(\d+)$/.exec(position);
  if (!match) throw new Error(`not a log position: ${position}`);
  return BigInt(match[1]!);
}

export async function eventCount(app: E2eApp): Promise<number> {
  return (await app.events()).length;
}

/** The events of one type in `events`, of one subscription when `subscriptionId` is given. */
export function ofType(events: readonly RecordedEvent[], type: string, subscriptionId?: string): RecordedEvent[] {
  return events.filter((event) => event.type === type && (subscriptionId === undefined || event.data['subscriptionId'] === subscriptionId));
}
