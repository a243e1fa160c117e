import { readFileSync } from 'fs';
import { resolve } from 'path';
import { Catalogue, validateCatalogue } from './catalogue';
import type { Sku } from './sku';

/** The file the service ships, read directly so a broken edit fails here and not at start-up. */
const file = JSON.parse(readFileSync(resolve(__dirname, '../../../../data/catalogue.json'), 'utf8')) as { skus: Sku[] };

describe('data/catalogue.json', () => {
  it('has no problems', () => {
    expect(validateCatalogue(file.skus)).toEqual([]);
  });

  const catalogue = new Catalogue(file.skus);
  const skus = catalogue.list();
  const titled = (text: string) => skus.filter((sku) => sku.title.includes(text));
  const withTerm = (text: string, term: string) => titled(text).find((sku) => sku.termDuration === term);
  const usd = (sku: Sku | undefined) => catalogue.priceFor(sku as Sku, 'US')?.amount ?? NaN;

  it.each([
    'Windows Server 2022 Datacenter',
    'Windows Server 2022 Standard',
    'SQL Server 2022 Standard',
    'SQL Server 2022 Enterprise',
  ])('sells %s as a server subscription on one- and three-year terms', (title) => {
    const oneYear = withTerm(title, 'P1Y');
    const threeYears = withTerm(title, 'P3Y');
    expect(oneYear?.kind).toBe('ServerSubscription');
    expect(oneYear?.billingCycles).toEqual(['annual', 'monthly']);
    expect(threeYears?.kind).toBe('ServerSubscription');
    expect(threeYears?.billingCycles).toEqual(['annual', 'triennial']);
    expect(threeYears?.productId).toBe(oneYear?.productId);
    expect(oneYear?.deliversKeys).toBe(true);
  });

  it('bills every three-year SKU annually or triennially, nothing else', () => {
    const threeYear = skus.filter((sku) => sku.termDuration === 'P3Y');
    expect(threeYear.length).toBeGreaterThanOrEqual(7);
    for (const sku of threeYear) expect(sku.billingCycles).toEqual(['annual', 'triennial']);
  });

  it('offers Windows Server 2012 Extended Security Updates with installation instructions', () => {
    const [esu, ...others] = titled('Windows Server 2012 Extended Security Updates');
    expect(others).toEqual([]);
    expect(esu.termDuration).toBe('P1Y');
    expect(esu.installationInstructionsUrl).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    expect(esu.deliversKeys).toBe(true);
  });

  it('bills Windows Remote Desktop Server CAL 2022 monthly', () => {
    const [cal, ...others] = titled('Windows Remote Desktop Server CAL 2022');
    expect(others).toEqual([]);
    expect(cal.termDuration).toBe('P1Y');
    expect(cal.billingCycles).toEqual(['monthly']);
    expect(cal.deliversKeys).toBe(true);
  });

  it('sells Office LTSC Professional Plus 2021 as perpetual software, paid once', () => {
    const [office, ...others] = titled('Office LTSC Professional Plus 2021');
    expect(others).toEqual([]);
    expect(office.kind).toBe('PerpetualSoftware');
    expect(office.termDuration).toBeUndefined();
    expect(office.billingCycles).toEqual(['oneTime']);
  });

  it.each(['RedHat', 'SUSE'])('sells %s plans on both terms, not cancellable, exchangeable or keyed', (publisher) => {
    const plans = skus.filter((sku) => sku.publisher === publisher);
    expect(plans.map((sku) => sku.termDuration).sort()).toEqual(['P1Y', 'P3Y']);
    for (const plan of plans) {
      expect(plan.kind).toBe('SoftwareSubscription');
      expect(plan).toMatchObject({ cancellable: false, exchangeable: false, deliversKeys: false });
    }
  });

  it('offers an Azure Reservation on both terms, without keys', () => {
    const reservations = skus.filter((sku) => sku.kind === 'AzureReservation');
    expect(reservations.map((sku) => sku.termDuration).sort()).toEqual(['P1Y', 'P3Y']);
    for (const reservation of reservations) expect(reservation.deliversKeys).toBe(false);
  });

  it('has a licence-only Microsoft product with every download choice empty', () => {
    const licenceOnly = skus.filter(
      (sku) => sku.publisher === 'Microsoft' && sku.kind !== 'AzureReservation' && !sku.deliversKeys,
    );
    expect(licenceOnly.length).toBeGreaterThanOrEqual(1);
    for (const sku of licenceOnly) {
      expect(sku.downloadOptions).toEqual({ versions: [], languages: [], fileTypes: [], operatingSystems: [] });
    }
  });

  it('gives Windows Server every download choice and hides some choices elsewhere', () => {
    expect(withTerm('Windows Server 2022 Datacenter', 'P1Y')?.downloadOptions).toEqual({
      versions: ['2022'],
      languages: ['en-us', 'de-de', 'fr-fr', 'ja-jp'],
      fileTypes: ['ISO', 'VHD'],
      operatingSystems: ['x64'],
    });
    const hidesAChoice = skus.filter(
      (sku) => sku.deliversKeys && Object.values(sku.downloadOptions).some((choices) => choices.length === 0),
    );
    expect(hidesAChoice.length).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['DE', 'EUR'],
    ['US', 'USD'],
    ['GB', 'GBP'],
    ['AU', 'AUD'],
    ['BR', 'BRL'],
  ])('prices every SKU in %s in %s', (market, currency) => {
    expect(catalogue.offersIn(market)).toHaveLength(skus.length);
    for (const sku of skus) expect(catalogue.priceFor(sku, market)?.currency).toBe(currency);
  });

  it('offers Azure Reservations in Kosovo (XK) with a price but lists none there: they cannot be sold in XK', () => {
    const reservations = skus.filter((sku) => sku.kind === 'AzureReservation');
    expect(reservations.length).toBeGreaterThan(0);
    for (const sku of reservations) expect(catalogue.priceFor(sku, 'XK')).toBeDefined();
    const offered = catalogue.offersIn('XK');
    expect(offered.some((sku) => sku.kind === 'AzureReservation')).toBe(false);
    expect(offered).toHaveLength(skus.length - reservations.length);
  });

  it('prices a three-year software term at a little under three one-year terms', () => {
    const threeYear = skus.filter((sku) => sku.termDuration === 'P3Y' && sku.kind !== 'AzureReservation');
    const ratios = threeYear.map((sku) => {
      const oneYear = skus.find((other) => other.productId === sku.productId && other.termDuration === 'P1Y');
      return { skuId: sku.skuId, ratio: usd(sku) / usd(oneYear) };
    });
    expect(ratios.filter(({ ratio }) => !(ratio >= 2.7 && ratio <= 3))).toEqual([]);
  });

  it('prices a three-year reservation above one year but below three, as reservation discounts grow with term', () => {
    const reservation = (term: string) =>
      skus.find((sku) => sku.kind === 'AzureReservation' && sku.termDuration === term);
    const ratio = usd(reservation('P3Y')) / usd(reservation('P1Y'));
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(3);
  });

  it('prices Datacenter far above Standard, and Enterprise above Standard', () => {
    const oneYear = (title: string) => usd(withTerm(title, 'P1Y'));
    expect(oneYear('Windows Server 2022 Datacenter')).toBeGreaterThan(4 * oneYear('Windows Server 2022 Standard'));
    expect(oneYear('SQL Server 2022 Enterprise')).toBeGreaterThan(3 * oneYear('SQL Server 2022 Standard'));
  });
});
