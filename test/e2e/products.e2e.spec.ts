import { E2eApp } from '../support/e2e-harness';
import { catalogue, expectProblem, get, invalidFields, SKU, unitPrice } from './support/e2e-support';

interface ProductItem {
  skuId: string;
  productId: string;
  title: string;
  publisher: string;
  kind: string;
  termDuration: string | null;
  billingCycles: string[];
  price: { amount: number; currency: string; taxIncluded: boolean };
  deliversKeys: boolean;
  downloadOptions: { versions: string[]; languages: string[]; fileTypes: string[]; operatingSystems: string[] };
  installationInstructionsUrl?: string;
  cancellable: boolean;
}

describe('catalogue: GET /v1/products?country=XX', () => {
  let app: E2eApp;
  let admin: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'] });
  });
  afterAll(() => app.stop());

  const products = async (country: string, token = admin) => get(app, `/v1/products?country=${country}`, token);
  const bySku = (items: ProductItem[]) => new Map(items.map((item) => [item.skuId, item]));

  it('lists every SKU sold in DE with the DE price, tax excluded, and the contract fields', async () => {
    const response = await products('DE');
    expect(response.status).toBe(200);
    const items = response.body.items as ProductItem[];
    const soldInDe = catalogue().filter((sku) => sku.prices['DE']);
    expect(response.body.totalCount).toBe(soldInDe.length);
    expect(items.map((item) => item.skuId).sort()).toEqual(soldInDe.map((sku) => sku.skuId).sort());
    for (const item of items) {
      expect(item.price).toEqual({ ...unitPrice(item.skuId, 'DE'), taxIncluded: false });
      expect(item).toEqual(
        expect.objectContaining({
          productId: expect.any(String),
          title: expect.any(String),
          publisher: expect.any(String),
          kind: expect.stringMatching(/^(SoftwareSubscription|ServerSubscription|PerpetualSoftware|AzureReservation)$/),
          billingCycles: expect.any(Array),
          deliversKeys: expect.any(Boolean),
          cancellable: expect.any(Boolean),
          downloadOptions: {
            versions: expect.any(Array),
            languages: expect.any(Array),
            fileTypes: expect.any(Array),
            operatingSystems: expect.any(Array),
          },
        }),
      );
    }
    const map = bySku(items);
    expect(map.get(SKU.datacenter3y)).toMatchObject({ termDuration: 'P3Y', billingCycles: ['annual', 'triennial'] });
    expect(map.get(SKU.office)).toMatchObject({ kind: 'PerpetualSoftware', termDuration: null });
    expect(map.get(SKU.rdsCal)!.billingCycles).toEqual(['monthly']);
    expect(map.get(SKU.datacenter1y)!.price.currency).toBe('EUR');
  });

  it('marks RedHat and SUSE plans as not cancellable and Microsoft ones as cancellable', async () => {
    const map = bySku((await products('DE')).body.items);
    expect(map.get(SKU.rhel1y)!.cancellable).toBe(false);
    expect(map.get(SKU.sles1y)!.cancellable).toBe(false);
    expect(map.get(SKU.datacenter1y)!.cancellable).toBe(true);
  });

  it('shows licence-only products with deliversKeys false and ESU with its installation instructions', async () => {
    const map = bySku((await products('DE')).body.items);
    expect(map.get(SKU.userCal)!.deliversKeys).toBe(false);
    expect(map.get(SKU.datacenter1y)!.deliversKeys).toBe(true);
    expect(map.get('windows-server-2012-esu-datacenter-2core:P1Y')!.installationInstructionsUrl).toMatch(/^https:\/\//);
  });

  it.each(['AU', 'BR'])('prices in %s include tax, in the local currency', async (country) => {
    const response = await products(country);
    expect(response.status).toBe(200);
    const items = response.body.items as ProductItem[];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(item.price).toEqual({ ...unitPrice(item.skuId, country), taxIncluded: true });
    expect(bySku(items).get(SKU.datacenter1y)!.price.currency).toBe(country === 'AU' ? 'AUD' : 'BRL');
  });

  it('prices in US exclude tax', async () => {
    const items = (await products('US')).body.items as ProductItem[];
    expect(bySku(items).get(SKU.datacenter1y)!.price).toEqual({ ...unitPrice(SKU.datacenter1y, 'US'), taxIncluded: false });
  });

  it('answers any authenticated caller, customer users and services included', async () => {
    const customerUser = await app.token({ roles: [], kind: 'customer', tenant: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    const service = await app.token({ roles: ['Importer'], kind: 'service' });
    const billing = await app.token({ roles: ['BillingAdmin'] });
    for (const token of [customerUser, service, billing]) expect((await products('DE', token)).status).toBe(200);
  });

  it('answers 400 VALIDATION_FAILED naming country when it is missing', async () => {
    const response = await get(app, '/v1/products', admin);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(invalidFields(response)).toEqual(['country']);
    expect(response.body.errors[0].in).toBe('query');
  });

  it.each(['UK', 'DEU', 'X1'])('answers 400 for country=%s', async (country) => {
    const response = await products(country);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(invalidFields(response)).toEqual(['country']);
  });

  it('takes a country code in any case: de is the German market', async () => {
    const [lower, upper] = [await products('de'), await products('DE')];
    expect(lower.status).toBe(200);
    expect(lower.body).toEqual(upper.body);
  });

  it('answers 400 for an unknown query parameter', async () => {
    const response = await get(app, '/v1/products?country=DE&currency=EUR', admin);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(invalidFields(response)).toEqual(['currency']);
  });

  it('answers 401 without a token', async () => {
    expectProblem(await app.http().get('/v1/products?country=DE'), 401, 'UNAUTHENTICATED');
  });
});
