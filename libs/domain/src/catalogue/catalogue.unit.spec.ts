import { Catalogue, InvalidCatalogueError, validateCatalogue } from './catalogue';
import type { Sku } from './sku';

function sku(overrides: Partial<Sku> = {}): Sku {
  return {
    productId: 'WS2022STD',
    skuId: 'WS2022STD:P1Y',
    title: 'Windows Server 2022 Standard - 1 year',
    publisher: 'Microsoft',
    kind: 'ServerSubscription',
    termDuration: 'P1Y',
    billingCycles: ['annual', 'monthly'],
    prices: { DE: { amount: 4_483, currency: 'EUR' }, US: { amount: 4_820, currency: 'USD' } },
    deliversKeys: true,
    downloadOptions: { versions: ['2022'], languages: ['en-us'], fileTypes: ['ISO'], operatingSystems: [] },
    cancellable: true,
    exchangeable: true,
    ...overrides,
  };
}

const threeYear = sku({ skuId: 'WS2022STD:P3Y', termDuration: 'P3Y', billingCycles: ['annual', 'triennial'] });
const perpetual = sku({
  productId: 'OFFICE-LTSC',
  skuId: 'OFFICE-LTSC:PERPETUAL',
  kind: 'PerpetualSoftware',
  termDuration: undefined,
  billingCycles: ['oneTime'],
  prices: { BR: { amount: 332_882, currency: 'BRL' } },
});

/** Bypasses the `Sku` type, as a hand-edited JSON file would. */
const raw = (overrides: Record<string, unknown>): unknown => ({ ...sku(), ...overrides });

describe('Catalogue', () => {
  const catalogue = new Catalogue([sku(), threeYear, perpetual]);

  it('finds a SKU by id', () => {
    expect(catalogue.find('WS2022STD:P3Y')?.termDuration).toBe('P3Y');
    expect(catalogue.find('nope')).toBeUndefined();
  });

  it('lists every SKU in file order', () => {
    expect(catalogue.list().map((entry) => entry.skuId)).toEqual([
      'WS2022STD:P1Y',
      'WS2022STD:P3Y',
      'OFFICE-LTSC:PERPETUAL',
    ]);
  });

  it('prices a SKU for the customer market', () => {
    expect(catalogue.priceFor(sku(), 'DE')).toEqual({ amount: 4_483, currency: 'EUR' });
    expect(catalogue.priceFor(perpetual, 'BR')).toEqual({ amount: 332_882, currency: 'BRL' });
  });

  it('has no price in a market the SKU is not offered in', () => {
    expect(catalogue.priceFor(sku(), 'GB')).toBeUndefined();
  });

  it('does not mistake inherited object keys for markets', () => {
    expect(catalogue.priceFor(sku(), 'constructor')).toBeUndefined();
    expect(catalogue.priceFor(sku(), '__proto__')).toBeUndefined();
  });

  it('prices from its own entry, not from the object it is handed', () => {
    const forged = sku({ prices: { DE: { amount: 1, currency: 'EUR' } } });
    expect(catalogue.priceFor(forged, 'DE')?.amount).toBe(4_483);
    expect(catalogue.priceFor(sku({ skuId: 'elsewhere' }), 'DE')).toBeUndefined();
  });

  it('offers in a market exactly the SKUs priced there', () => {
    expect(catalogue.offersIn('DE').map((entry) => entry.skuId)).toEqual(['WS2022STD:P1Y', 'WS2022STD:P3Y']);
    expect(catalogue.offersIn('BR').map((entry) => entry.skuId)).toEqual(['OFFICE-LTSC:PERPETUAL']);
    expect(catalogue.offersIn('JP')).toEqual([]);
  });

  it('is unaffected when the caller later changes the SKUs it was built from', () => {
    const input = sku();
    const own = new Catalogue([input]);
    input.prices.DE = { amount: 1, currency: 'EUR' };
    input.billingCycles.push('triennial');
    expect(own.priceFor(input, 'DE')?.amount).toBe(4_483);
    expect(own.find('WS2022STD:P1Y')?.billingCycles).toEqual(['annual', 'monthly']);
  });

  it('cannot be changed through what it returns', () => {
    const found = catalogue.find('WS2022STD:P1Y') as Sku;
    expect(() => {
      found.prices.DE = { amount: 1, currency: 'EUR' };
    }).toThrow(TypeError);
    expect(Object.isFrozen(catalogue.list())).toBe(true);
  });

  it('refuses to be built from an invalid list, naming every problem', () => {
    const build = () => new Catalogue([sku(), sku({ billingCycles: [] })]);
    expect(build).toThrow(InvalidCatalogueError);
    expect(build).toThrow(/duplicate skuId/);
    expect(build).toThrow(/billingCycles must be a non-empty list/);
  });

  it('may be empty', () => {
    expect(new Catalogue([]).list()).toEqual([]);
  });
});

describe('validateCatalogue', () => {
  const problemsOf = (...skus: unknown[]) => validateCatalogue(skus);

  it('accepts valid subscription and perpetual SKUs', () => {
    expect(problemsOf(sku(), threeYear, perpetual)).toEqual([]);
  });

  it('reports a duplicate skuId with both positions', () => {
    expect(problemsOf(sku(), threeYear, sku())).toEqual(['sku "WS2022STD:P1Y": duplicate skuId (entries #1 and #3)']);
  });

  it('reports an unknown billing cycle', () => {
    expect(problemsOf(raw({ billingCycles: ['annual', 'weekly'] }))).toEqual([
      'sku "WS2022STD:P1Y": unknown billing cycle "weekly" (expected one of monthly, annual, triennial, oneTime)',
    ]);
  });

  it('reports a cycle listed twice', () => {
    expect(problemsOf(sku({ billingCycles: ['annual', 'annual'] }))).toEqual([
      'sku "WS2022STD:P1Y": billingCycles lists a cycle twice',
    ]);
  });

  it('reports perpetual software with a term', () => {
    expect(problemsOf({ ...perpetual, termDuration: 'P1Y' })).toEqual([
      'sku "OFFICE-LTSC:PERPETUAL": perpetual software must not have a termDuration',
    ]);
  });

  it('reports perpetual software billed other than once', () => {
    expect(problemsOf({ ...perpetual, billingCycles: ['annual'] })).toEqual([
      'sku "OFFICE-LTSC:PERPETUAL": perpetual software is paid once, so billingCycles must be ["oneTime"]',
    ]);
  });

  it.each(['SoftwareSubscription', 'ServerSubscription', 'AzureReservation'])('reports a %s without a term', (kind) => {
    expect(problemsOf(raw({ kind, termDuration: undefined }))).toEqual([
      `sku "WS2022STD:P1Y": a ${kind} needs a termDuration (P1Y or P3Y)`,
    ]);
  });

  it('reports an unknown term', () => {
    expect(problemsOf(raw({ termDuration: 'P2Y' }))).toEqual(['sku "WS2022STD:P1Y": unknown termDuration "P2Y"']);
  });

  it('reports an unknown kind', () => {
    expect(problemsOf(raw({ kind: 'Hardware' }))).toEqual([
      'sku "WS2022STD:P1Y": unknown kind "Hardware" ' +
        '(expected one of SoftwareSubscription, ServerSubscription, PerpetualSoftware, AzureReservation)',
    ]);
  });

  it.each([[['annual']], [['triennial']], [['monthly', 'annual', 'triennial']], [['monthly', 'triennial']]])(
    'reports a P3Y SKU billed %j',
    (billingCycles) => {
      expect(problemsOf({ ...threeYear, billingCycles })).toEqual([
        'sku "WS2022STD:P3Y": a P3Y SKU must offer exactly ["annual","triennial"], ' +
          `got ${JSON.stringify(billingCycles)}`,
      ]);
    },
  );

  it('accepts a P3Y SKU whatever the order of its two cycles', () => {
    expect(problemsOf({ ...threeYear, billingCycles: ['triennial', 'annual'] })).toEqual([]);
  });

  it('reports a one-year term billed triennially', () => {
    expect(problemsOf(sku({ billingCycles: ['annual', 'triennial'] }))).toEqual([
      'sku "WS2022STD:P1Y": a one-year term cannot be billed triennially',
    ]);
  });

  it('reports a subscription billed once', () => {
    expect(problemsOf(sku({ billingCycles: ['oneTime'] }))).toEqual([
      'sku "WS2022STD:P1Y": a subscription is paid per term, "oneTime" is only for perpetual software',
    ]);
  });

  it.each([4_483.5, '4483', null])('reports the non-integer price %j', (amount) => {
    expect(problemsOf(raw({ prices: { DE: { amount, currency: 'EUR' } } }))).toEqual([
      `sku "WS2022STD:P1Y": price for "DE": amount ${JSON.stringify(amount)} is not an integer number of minor units`,
    ]);
  });

  it('reports a negative price', () => {
    expect(problemsOf(sku({ prices: { DE: { amount: -1, currency: 'EUR' } } }))).toEqual([
      'sku "WS2022STD:P1Y": price for "DE": amount must not be negative',
    ]);
  });

  it.each(['de', 'UK', 'DEU', 'ZZ'])('reports the unknown country code %s', (market) => {
    expect(problemsOf(sku({ prices: { [market]: { amount: 1, currency: 'EUR' } } }))).toEqual([
      `sku "WS2022STD:P1Y": price for "${market}": unknown country code (ISO 3166-1 alpha-2, upper case)`,
    ]);
  });

  it('accepts a price for Kosovo (XK)', () => {
    expect(problemsOf(sku({ prices: { XK: { amount: 4_483, currency: 'EUR' } } }))).toEqual([]);
  });

  it('reports a malformed currency', () => {
    expect(problemsOf(sku({ prices: { DE: { amount: 1, currency: 'euro' } } }))).toEqual([
      'sku "WS2022STD:P1Y": price for "DE": currency "euro" is not an ISO 4217 code',
    ]);
  });

  it('reports a market priced in two currencies', () => {
    expect(problemsOf(sku(), { ...threeYear, prices: { DE: { amount: 1, currency: 'USD' } } })).toEqual([
      'sku "WS2022STD:P3Y": price for "DE": currency USD differs from EUR used by sku "WS2022STD:P1Y"',
    ]);
  });

  it('reports a SKU with no prices', () => {
    expect(problemsOf(sku({ prices: {} }))).toEqual(['sku "WS2022STD:P1Y": has no prices, so it is offered nowhere']);
  });

  it('reports a licence-only product that offers downloads', () => {
    expect(problemsOf(sku({ deliversKeys: false }))).toEqual([
      'sku "WS2022STD:P1Y": a licence-only product (deliversKeys false) cannot offer downloadOptions.versions',
      'sku "WS2022STD:P1Y": a licence-only product (deliversKeys false) cannot offer downloadOptions.languages',
      'sku "WS2022STD:P1Y": a licence-only product (deliversKeys false) cannot offer downloadOptions.fileTypes',
    ]);
  });

  it('reports missing download option lists', () => {
    expect(problemsOf(raw({ downloadOptions: { versions: ['2022'] } }))).toEqual([
      'sku "WS2022STD:P1Y": downloadOptions.languages must be a list of non-empty strings',
      'sku "WS2022STD:P1Y": downloadOptions.fileTypes must be a list of non-empty strings',
      'sku "WS2022STD:P1Y": downloadOptions.operatingSystems must be a list of non-empty strings',
    ]);
  });

  it.each(['RedHat', 'SUSE'])('reports a %s plan marked cancellable or exchangeable', (publisher) => {
    expect(problemsOf(sku({ publisher, cancellable: true, exchangeable: true }))).toEqual([
      `sku "WS2022STD:P1Y": ${publisher} plans can never be cancelled, so cancellable must be false`,
      `sku "WS2022STD:P1Y": ${publisher} plans can never be exchanged, so exchangeable must be false`,
    ]);
  });

  it('reports installation instructions that are not an https link', () => {
    expect(problemsOf(sku({ installationInstructionsUrl: 'http://example.com/esu' }))).toEqual([
      'sku "WS2022STD:P1Y": installationInstructionsUrl must be an https URL',
    ]);
    expect(problemsOf(sku({ installationInstructionsUrl: 'https://learn.microsoft.com/esu' }))).toEqual([]);
  });

  it('reports SKUs of one product that disagree on publisher or kind', () => {
    expect(problemsOf(sku(), { ...threeYear, kind: 'SoftwareSubscription' })).toEqual([
      'sku "WS2022STD:P3Y": product "WS2022STD" has a different publisher or kind than sku "WS2022STD:P1Y"',
    ]);
  });

  it('reports entries that are not SKUs at all, by position', () => {
    expect(problemsOf(sku(), 'WS2022STD', null)).toEqual(['entry #2: is not an object', 'entry #3: is not an object']);
  });

  it('reports missing identity and flag fields', () => {
    const { skuId: _skuId, title: _title, cancellable: _cancellable, ...rest } = sku();
    expect(problemsOf(rest)).toEqual([
      'entry #1: skuId must be a non-empty string',
      'entry #1: title must be a non-empty string',
      'entry #1: cancellable must be true or false',
    ]);
  });
});
