import { isKnownCountryCode } from '../markets/iso-countries';
import { NEVER_CANCELLABLE_PUBLISHERS } from '../policies/cancellability.policy';
import type { Money } from '../shared/money';
import { BILLING_CYCLES, PRODUCT_KINDS, TERM_DURATIONS, type BillingCycle, type Sku } from './sku';
import { azureReservationsAvailableIn } from '../markets/azure-reservation-markets';

/** Lists every problem at once, so whoever edits the catalogue file can fix it in one pass. */
export class InvalidCatalogueError extends Error {
  constructor(
    readonly problems: readonly string[],
    source = 'catalogue',
  ) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super(`Invalid ${source} (${count}):\n- ${problems.join('\n- ')}`);
    this.name = 'InvalidCatalogueError';
  }
}

/**
 * The products the service sells. Built only from a valid SKU list, and frozen, so the deciders can
 * trust every entry (one term price per market, cycles that fit the term) without checking again.
 */
export class Catalogue {
  private readonly skus: readonly Sku[];
  private readonly bySkuId: ReadonlyMap<string, Sku>;

  constructor(skus: readonly Sku[]) {
    const problems = validateCatalogue(skus);
    if (problems.length > 0) throw new InvalidCatalogueError(problems);
    // A copy, so a caller that keeps the input array cannot change prices under a running decider.
    this.skus = deepFreeze(skus.map((sku) => structuredCopy(sku)));
    this.bySkuId = new Map(this.skus.map((sku) => [sku.skuId, sku]));
  }

  find(skuId: string): Sku | undefined {
    return this.bySkuId.get(skuId);
  }

  list(): readonly Sku[] {
    return this.skus;
  }

  /** Looks the SKU up again by id, so a stale or foreign `Sku` object cannot smuggle in its own price. */
  priceFor(sku: Pick<Sku, 'skuId'>, country: string): Money | undefined {
    const own = this.bySkuId.get(sku.skuId);
    if (!own || !Object.hasOwn(own.prices, country)) return undefined;
    return own.prices[country];
  }

  /** What can be sold in the market: priced there, and not an Azure Reservation where those are unavailable. */
  offersIn(country: string): readonly Sku[] {
    return this.skus.filter(
      (sku) =>
        this.priceFor(sku, country) !== undefined &&
        (sku.kind !== 'AzureReservation' || azureReservationsAvailableIn(country)),
    );
  }
}

const DOWNLOAD_OPTION_LISTS = ['versions', 'languages', 'fileTypes', 'operatingSystems'] as const;
const CURRENCY_CODE = /^[A-Z]{3}$/;
const HTTPS_URL = /^https:\/\/[^\s/]+\.[^\s]+$/;

/**
 * Checks SKUs as they come from a file (hence `unknown`): shape, the SPEC's term and billing rules,
 * and cross-entry consistency. Returns readable problems; an empty list means valid.
 */
export function validateCatalogue(skus: readonly unknown[]): string[] {
  const problems: string[] = [];
  const firstIndexBySkuId = new Map<string, number>();
  const productIdentity = new Map<string, { publisher: unknown; kind: unknown; skuId: string }>();
  const currencyByMarket = new Map<string, { currency: string; skuId: string }>();

  skus.forEach((entry, index) => {
    if (!isRecord(entry)) {
      problems.push(`entry #${index + 1}: is not an object`);
      return;
    }
    const skuId = typeof entry.skuId === 'string' && entry.skuId !== '' ? entry.skuId : undefined;
    const label = skuId ? `sku "${skuId}"` : `entry #${index + 1}`;
    const report = (problem: string) => problems.push(`${label}: ${problem}`);

    for (const field of ['productId', 'skuId', 'title', 'publisher'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') report(`${field} must be a non-empty string`);
    }
    if (skuId) {
      const first = firstIndexBySkuId.get(skuId);
      if (first === undefined) firstIndexBySkuId.set(skuId, index);
      else report(`duplicate skuId (entries #${first + 1} and #${index + 1})`);
    }

    const kindKnown = PRODUCT_KINDS.includes(entry.kind as never);
    if (!kindKnown) report(`unknown kind ${JSON.stringify(entry.kind)} (expected one of ${PRODUCT_KINDS.join(', ')})`);
    const perpetual = entry.kind === 'PerpetualSoftware';

    if (perpetual && entry.termDuration !== undefined) {
      report('perpetual software must not have a termDuration');
    } else if (kindKnown && !perpetual && entry.termDuration === undefined) {
      report(`a ${String(entry.kind)} needs a termDuration (${TERM_DURATIONS.join(' or ')})`);
    } else if (entry.termDuration !== undefined && !TERM_DURATIONS.includes(entry.termDuration as never)) {
      report(`unknown termDuration ${JSON.stringify(entry.termDuration)}`);
    }

    problems.push(...billingCycleProblems(entry, label, kindKnown && !perpetual));
    problems.push(...priceProblems(entry.prices, label, skuId, currencyByMarket));
    problems.push(...deliveryProblems(entry, label));

    if (entry.installationInstructionsUrl !== undefined) {
      if (typeof entry.installationInstructionsUrl !== 'string' || !HTTPS_URL.test(entry.installationInstructionsUrl)) {
        report('installationInstructionsUrl must be an https URL');
      }
    }
    for (const flag of ['cancellable', 'exchangeable'] as const) {
      if (typeof entry[flag] !== 'boolean') report(`${flag} must be true or false`);
      else if (entry[flag] && NEVER_CANCELLABLE_PUBLISHERS.includes(entry.publisher as string)) {
        const verb = flag === 'cancellable' ? 'cancelled' : 'exchanged';
        report(`${String(entry.publisher)} plans can never be ${verb}, so ${flag} must be false`);
      }
    }

    // SKUs of one product are the same product sold on different terms; a mismatch is a copy-paste slip.
    if (typeof entry.productId === 'string' && skuId) {
      const known = productIdentity.get(entry.productId);
      if (!known) productIdentity.set(entry.productId, { publisher: entry.publisher, kind: entry.kind, skuId });
      else if (known.publisher !== entry.publisher || known.kind !== entry.kind) {
        report(`product "${entry.productId}" has a different publisher or kind than sku "${known.skuId}"`);
      }
    }
  });
  return problems;
}

function billingCycleProblems(entry: Record<string, unknown>, label: string, subscription: boolean): string[] {
  const cycles = entry.billingCycles;
  if (!Array.isArray(cycles) || cycles.length === 0) return [`${label}: billingCycles must be a non-empty list`];
  const problems: string[] = [];
  for (const cycle of cycles) {
    if (!BILLING_CYCLES.includes(cycle as never)) {
      const expected = BILLING_CYCLES.join(', ');
      problems.push(`${label}: unknown billing cycle ${JSON.stringify(cycle)} (expected one of ${expected})`);
    }
  }
  if (new Set(cycles).size !== cycles.length) problems.push(`${label}: billingCycles lists a cycle twice`);
  const offers = (cycle: BillingCycle) => cycles.includes(cycle);

  if (entry.kind === 'PerpetualSoftware' && !(cycles.length === 1 && offers('oneTime'))) {
    problems.push(`${label}: perpetual software is paid once, so billingCycles must be ["oneTime"]`);
  }
  if (subscription && offers('oneTime')) {
    problems.push(`${label}: a subscription is paid per term, "oneTime" is only for perpetual software`);
  }
  // SPEC: from 2021-10-22 three-year SKUs are billed annually or triennially, nothing else.
  if (entry.termDuration === 'P3Y' && !(cycles.length === 2 && offers('annual') && offers('triennial'))) {
    problems.push(`${label}: a P3Y SKU must offer exactly ["annual","triennial"], got ${JSON.stringify(cycles)}`);
  }
  if (entry.termDuration === 'P1Y' && offers('triennial')) {
    problems.push(`${label}: a one-year term cannot be billed triennially`);
  }
  return problems;
}

function priceProblems(
  prices: unknown,
  label: string,
  skuId: string | undefined,
  currencyByMarket: Map<string, { currency: string; skuId: string }>,
): string[] {
  if (!isRecord(prices)) return [`${label}: prices must be an object keyed by country code`];
  const markets = Object.keys(prices);
  if (markets.length === 0) return [`${label}: has no prices, so it is offered nowhere`];
  const problems: string[] = [];
  for (const market of markets) {
    const where = `${label}: price for ${JSON.stringify(market)}`;
    if (!isKnownCountryCode(market)) problems.push(`${where}: unknown country code (ISO 3166-1 alpha-2, upper case)`);
    const price = prices[market];
    if (!isRecord(price)) {
      problems.push(`${where}: must be { amount, currency }`);
      continue;
    }
    if (typeof price.amount !== 'number' || !Number.isSafeInteger(price.amount)) {
      problems.push(`${where}: amount ${JSON.stringify(price.amount)} is not an integer number of minor units`);
    } else if (price.amount < 0) {
      problems.push(`${where}: amount must not be negative`);
    }
    if (typeof price.currency !== 'string' || !CURRENCY_CODE.test(price.currency)) {
      problems.push(`${where}: currency ${JSON.stringify(price.currency)} is not an ISO 4217 code`);
      continue;
    }
    // A market bills in one currency; two would make invoices and refunds for one customer unaddable.
    const established = currencyByMarket.get(market);
    if (!established && skuId) currencyByMarket.set(market, { currency: price.currency, skuId });
    else if (established && established.currency !== price.currency) {
      problems.push(
        `${where}: currency ${price.currency} differs from ${established.currency} used by sku "${established.skuId}"`,
      );
    }
  }
  return problems;
}

function deliveryProblems(entry: Record<string, unknown>, label: string): string[] {
  const problems: string[] = [];
  if (typeof entry.deliversKeys !== 'boolean') problems.push(`${label}: deliversKeys must be true or false`);
  const options = entry.downloadOptions;
  if (!isRecord(options)) return [...problems, `${label}: downloadOptions must be an object`];
  for (const list of DOWNLOAD_OPTION_LISTS) {
    const values = options[list];
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string' && value !== '')) {
      problems.push(`${label}: downloadOptions.${list} must be a list of non-empty strings`);
    } else if (entry.deliversKeys === false && values.length > 0) {
      problems.push(`${label}: a licence-only product (deliversKeys false) cannot offer downloadOptions.${list}`);
    }
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function structuredCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => structuredCopy(item)) as T;
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, structuredCopy(item)])) as T;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach((item) => deepFreeze(item));
    Object.freeze(value);
  }
  return value;
}
