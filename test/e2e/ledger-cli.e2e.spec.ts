import { buildCli } from '../../apps/cli/src/cli';
import { E2eApp } from '../support/e2e-harness';
import { get, placeOrder, registerCustomer, SKU } from './support/e2e-support';

interface RebuildJson {
  totals: unknown[];
  checksum: string;
  entries: number;
  position: string | null;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `npm run cli -- ledger ...` in process against a running service's stores (SQLite files, the
 * EventStoreDB log, PostgreSQL read models: whichever this jest project selects), with its environment.
 * What the finance replay must show: a rebuild from zero gives the live checksum, and a rebuild as of
 * a past position or instant gives exactly the checksum the API answered at that moment.
 */
describe('npm run cli -- ledger', () => {
  let app: E2eApp;

  beforeEach(async () => {
    app = await E2eApp.start({ now: '2026-11-30T08:00:00.000Z' });
  });
  afterEach(() => app.stop());

  async function cli(...args: string[]): Promise<string> {
    let out = '';
    await buildCli({ env: app.env, stdout: (text) => (out += text), stderr: () => undefined }).parseAsync(['node', 'csp', ...args]);
    return out;
  }
  const rebuild = async (...args: string[]): Promise<RebuildJson> => JSON.parse(await cli('ledger', 'rebuild', '--json', ...args)) as RebuildJson;

  it('rebuilds from zero to the live checksum, and as of a past position or instant to what GET /v1/ledger answered then', async () => {
    const billing = await app.token({ roles: ['BillingAdmin'] });
    const admin = await app.token({ roles: ['AdminAgent'] });
    const customer = await registerCustomer(app);
    const first = await placeOrder(app, customer.id, [
      { skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'monthly' },
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
    ]);
    const then = await get(app, '/v1/ledger', billing, first.position);
    expect(then.body.totalCount).toBe(1);
    // recordedAt is the store's wall clock in milliseconds: keep a millisecond or more on each side.
    await pause(20);
    const instant = new Date().toISOString();
    await pause(20);

    await app.http().patch(`/v1/customers/${customer.id}/orders/${first.id}`).set('Authorization', admin).send({ status: 'cancelled' }).expect(200);
    const cancelled = await app
      .http()
      .patch(`/v1/customers/${customer.id}/subscriptions/${first.subscriptionIds[0]}`)
      .set('Authorization', admin)
      .send({ status: 'cancelled' })
      .expect(200);
    const now = await get(app, '/v1/ledger', billing, String(cancelled.headers['x-log-position']));
    expect(now.body.totalCount).toBeGreaterThan(then.body.totalCount);
    expect(now.body.checksum).not.toBe(then.body.checksum);

    const fromZero = await rebuild();
    expect(fromZero).toEqual({ totals: now.body.totals, checksum: now.body.checksum, entries: now.body.totalCount, position: expect.any(String) });
    expect(fromZero.position).toBe(String(cancelled.headers['x-log-position']));

    const atPosition = await rebuild('--as-of', first.position);
    expect(atPosition).toEqual({ totals: then.body.totals, checksum: then.body.checksum, entries: 1, position: first.position });
    const atInstant = await rebuild('--as-of', instant);
    expect(atInstant).toEqual(atPosition);

    // The running service folds on from the tables rebuilt as of the past: after its next event the
    // live ledger is the whole one again.
    const later = await registerCustomer(app);
    const live = await get(app, '/v1/ledger', billing, later.position);
    expect(live.status).toBe(200);
    expect([live.body.checksum, live.body.totalCount]).toEqual([now.body.checksum, now.body.totalCount]);
  });

  it('prints the totals table and the checksum without --json, and exports one invoice period as CSV or JSON', async () => {
    const billing = await app.token({ roles: ['BillingAdmin'] });
    const customer = await registerCustomer(app);
    const placed = await placeOrder(app, customer.id, [{ skuId: SKU.standard1y, quantity: 1, billingCycle: 'annual' }]);
    const november = await get(app, '/v1/ledger?invoicePeriod=2026-11', billing, placed.position);
    const csv = await app
      .http()
      .get('/v1/ledger?invoicePeriod=2026-11')
      .set('Authorization', billing)
      .set('Accept', 'text/csv')
      .set('X-Min-Position', placed.position);

    const text = await cli('ledger', 'rebuild');
    expect(text).toContain(`checksum: ${november.body.checksum}`);
    expect(text).toMatch(/^currency\s+charges\s+refunds\s+credits\s+voids\s+net$/m);
    expect(text).toContain('entries: 1');

    expect(await cli('ledger', 'export', '--period', '2026-11')).toBe(csv.text);
    const json = JSON.parse(await cli('ledger', 'export', '--period', '2026-11', '--format', 'json'));
    expect(json).toMatchObject({ invoicePeriod: '2026-11', totals: november.body.totals, checksum: november.body.checksum });
    expect(json.entries.map((entry: { id: string }) => entry.id)).toEqual(november.body.items.map((entry: { id: string }) => entry.id));
    expect(JSON.parse(await cli('ledger', 'export', '--period', '2026-12', '--format', 'json')).entries).toEqual([]);
  });

  it('refuses an --as-of that is neither a position nor an instant, and a period that is not YYYY-MM', async () => {
    await expect(cli('ledger', 'rebuild', '--as-of', 'yesterday')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    await expect(cli('ledger', 'export', '--period', '2026-13')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    await expect(cli('ledger', 'export', '--period', '2026-11', '--format', 'xml')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });
});
