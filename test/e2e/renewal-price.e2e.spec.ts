import { E2eApp } from '../support/e2e-harness';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const customerId = '3d1f6a2e-8b4c-4f0e-9a7d-5c6b7e8f9a0b';
const skuId = 'windows-server-2022-standard-2core:P1Y';

/** SPEC: at term end an autorenewing subscription starts a new term at the catalogue price of that day. */
describe('a renewal takes the catalogue price at renewal time', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'csp-renewal-price-'));
  const dataDir = join(workDir, 'data');
  const shipped = JSON.parse(readFileSync(join(__dirname, '../../data/catalogue.json'), 'utf8')) as {
    skus: Array<{ skuId: string; prices: Record<string, { amount: number; currency: string }> }>;
  };
  const originalPrice = shipped.skus.find((sku) => sku.skuId === skuId)!.prices['DE']!.amount;
  const raisedPrice = originalPrice + 1234;

  function catalogueWithPrice(amount: number): string {
    const file = join(workDir, `catalogue-${amount}.json`);
    const skus = shipped.skus.map((sku) =>
      sku.skuId === skuId ? { ...sku, prices: { ...sku.prices, DE: { amount, currency: 'EUR' } } } : sku,
    );
    writeFileSync(file, JSON.stringify({ skus }));
    return file;
  }

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('buys at the old price, renews at the new one', async () => {
    const before = await E2eApp.start({ dataDir, now: '2026-03-01T12:00:00.000Z', env: { CATALOGUE_FILE: catalogueWithPrice(originalPrice) } });
    const admin = await before.token({ roles: ['AdminAgent'] });
    await before
      .http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id: customerId, companyName: 'Litware', domain: 'litware.example', country: 'DE' })
      .expect(201);
    const order = await before
      .http()
      .post(`/v1/customers/${customerId}/orders`)
      .set('Authorization', admin)
      .send({ lineItems: [{ skuId, quantity: 3, billingCycle: 'annual' }] })
      .expect(201);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    expect(order.body.lineItems[0].price).toEqual({ amount: 3 * originalPrice, currency: 'EUR' });
    await before.stop({ keepData: true });

    const after = await E2eApp.start({ dataDir, now: '2027-03-01T12:00:00.000Z', env: { CATALOGUE_FILE: catalogueWithPrice(raisedPrice) } });
    try {
      await after.runScheduler();
      const subscription = await after.http().get(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`).set('Authorization', admin).expect(200);
      expect(subscription.body).toMatchObject({
        status: 'active',
        termNumber: 2,
        termStartDate: '2027-03-01T12:00:00.000Z',
        termPrice: { amount: 3 * raisedPrice, currency: 'EUR' },
      });
      const billed = (await after.events()).filter((event) => event.type === 'InstallmentBilled').map((event) => event.data['amount']);
      expect(billed).toEqual([
        { amount: 3 * originalPrice, currency: 'EUR' },
        { amount: 3 * raisedPrice, currency: 'EUR' },
      ]);
    } finally {
      await after.stop();
    }
  });
});
