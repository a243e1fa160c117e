import { READ_MODEL_DB } from '@csp/application/tokens';
import { positionToString } from '@csp/event-store';
import { ProjectionGenerations, projectionRegistry, type ReadModelDb } from '@csp/read-models';
import { buildCli } from '../../apps/cli/src/cli';
import { E2eApp } from '../support/e2e-harness';
import { get, placeOrder, registerCustomer, SKU } from './support/e2e-support';

interface StatusRow {
  name: string;
  version: number;
  generation: number;
  position: string | null;
  eventsBehind: number;
  state: string;
}

/**
 * The operator's command line against a running service's stores (SQLite files, the EventStoreDB
 * log, PostgreSQL read models: whichever this jest project selects), in process with the service's
 * environment.
 */
describe('npm run cli -- projections', () => {
  let app: E2eApp;

  beforeEach(async () => {
    app = await E2eApp.start();
  });
  afterEach(() => app.stop());

  async function cli(...args: string[]): Promise<string> {
    let out = '';
    await buildCli({ env: app.env, stdout: (text) => (out += text), stderr: () => undefined }).parseAsync(['node', 'csp', ...args]);
    return out;
  }

  const status = async (): Promise<StatusRow[]> => JSON.parse(await cli('projections', 'status', '--json')) as StatusRow[];
  const db = (): ReadModelDb => app.app.get<ReadModelDb>(READ_MODEL_DB);
  const ordersRows = () => db().selectFrom('orders').selectAll().orderBy('id').execute();
  const subscriptionRows = () => db().selectFrom('subscriptions').selectAll().orderBy('id').execute();

  async function someHistory(): Promise<string> {
    const customer = await registerCustomer(app);
    await placeOrder(app, customer.id, [{ skuId: SKU.datacenter1y, quantity: 2, billingCycle: 'monthly' }]);
    const last = await placeOrder(app, customer.id, [
      { skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' },
      { skuId: SKU.rdsCal, quantity: 5, billingCycle: 'monthly' },
    ]);
    // Read at the last position: every projection has folded everything by then.
    await get(app, `/v1/customers/${customer.id}/orders`, await app.token({ roles: ['AdminAgent'] }), last.position);
    return customer.id;
  }

  it('status --json lists every projection at the head of the log, nothing behind', async () => {
    await someHistory();
    const head = positionToString((await app.eventStore.headPosition())!);

    const rows = await status();

    const names = rows.map((row) => row.name);
    for (const expected of ['customers', 'orders', 'subscriptions']) expect(names).toContain(expected);
    for (const row of rows) {
      expect(row).toMatchObject({ position: head, eventsBehind: 0, state: 'current', generation: 1 });
      expect(row.version).toBeGreaterThanOrEqual(1);
    }
  });

  it('rebuild orders: fresh tables with the same rows, the others keep their generation and checkpoint, and the service folds on', async () => {
    const customerId = await someHistory();
    const before = await status();
    const ordersBefore = await ordersRows();
    const subscriptionsBefore = await subscriptionRows();
    expect(ordersBefore).toHaveLength(2);

    const report = await cli('projections', 'rebuild', 'orders');

    expect(report).toMatch(/^orders: generation 2 folded \d+ events up to \d+\.\d+/);
    const after = await status();
    for (const row of after) {
      const previous = before.find((candidate) => candidate.name === row.name)!;
      if (row.name === 'orders') expect(row).toMatchObject({ generation: 2, position: previous.position });
      else expect(row).toEqual(previous);
    }
    expect(await ordersRows()).toEqual(ordersBefore);
    expect(await subscriptionRows()).toEqual(subscriptionsBefore);

    // The running service's orders runner loses its (dropped) tables, restarts and follows generation 2.
    const next = await placeOrder(app, customerId, [{ skuId: SKU.office, quantity: 3, billingCycle: 'oneTime' }]);
    const listed = await get(app, `/v1/customers/${customerId}/orders`, await app.token({ roles: ['AdminAgent'] }), next.position);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((order: { id: string }) => order.id)).toContain(next.id);
  });

  it('rebuild --all folds every projection in one pass: fresh generations with the same rows, each at the head', async () => {
    await someHistory();
    const before = await status();
    const ordersBefore = await ordersRows();
    const subscriptionsBefore = await subscriptionRows();

    const report = await cli('projections', 'rebuild', '--all');

    const after = await status();
    expect(after.map((row) => row.name)).toEqual(before.map((row) => row.name));
    for (const row of after) {
      const previous = before.find((candidate) => candidate.name === row.name)!;
      expect(report).toContain(`${row.name}: generation ${previous.generation + 1} folded`);
      expect(row).toMatchObject({ generation: previous.generation + 1, position: previous.position, eventsBehind: 0, state: 'current' });
    }
    expect(await ordersRows()).toEqual(ordersBefore);
    expect(await subscriptionRows()).toEqual(subscriptionsBefore);
  });

  it('rebuild --until a past position holds the projection as it stood then', async () => {
    const customer = await registerCustomer(app);
    const first = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    const second = await placeOrder(app, customer.id, [{ skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' }]);
    await get(app, `/v1/customers/${customer.id}/orders`, await app.token({ roles: ['AdminAgent'] }), second.position);
    app = await app.restart();
    // A service restarted later folds on from there; stop it first so the rebuilt state can be read as it was.
    await app.app.close();

    await cli('projections', 'rebuild', 'orders', '--until', first.position);

    const rows = (await status()).find((row) => row.name === 'orders')!;
    expect(rows.position).toBe(first.position);
    expect(rows.eventsBehind).toBeGreaterThan(0);
  });

  it('rebuild --discard-unfinished drops what a rebuild killed moments ago left; without it that leftover stays and status says rebuilding', async () => {
    await someHistory();
    const generations = new ProjectionGenerations(db());
    // What a rebuild leaves when its process is killed after creating its tables.
    const abandoned = await generations.create(projectionRegistry.find((projection) => projection.name === 'orders')!);
    expect((await status()).find((row) => row.name === 'orders')!.state).toBe('rebuilding');

    await cli('projections', 'rebuild', 'orders');
    expect((await generations.list()).filter((generation) => generation.status === 'building')).toEqual([abandoned]);
    expect((await status()).find((row) => row.name === 'orders')!.state).toBe('rebuilding');

    const report = await cli('projections', 'rebuild', 'orders', '--discard-unfinished');

    expect(report).toContain(`orders: discarded unfinished generation ${abandoned.generation}\n`);
    expect((await generations.list()).filter((generation) => generation.status === 'building')).toEqual([]);
    const orders = (await status()).find((row) => row.name === 'orders')!;
    expect(orders).toMatchObject({ state: 'current', eventsBehind: 0 });
    expect(orders.generation).toBeGreaterThan(abandoned.generation);
    // Its tables are gone with it.
    const tables = (await db().introspection.getTables()).map((table) => table.name);
    expect(tables).toContain(`orders__g${orders.generation}`);
    expect(tables).not.toContain(`orders__g${abandoned.generation}`);
  });

  it('a build that has not moved for two minutes is rebuild-stalled, and the next rebuild drops it by itself; one that moves is left alone', async () => {
    await someHistory();
    const ordersBefore = await ordersRows();
    const generations = new ProjectionGenerations(db());
    const definition = (name: string) => projectionRegistry.find((projection) => projection.name === name)!;
    // A rebuild killed after creating its tables and folding a batch, three minutes ago.
    const stalled = await generations.create(definition('orders'));
    const threeMinutesAgo = new Date(Date.now() - 3 * 60_000).toISOString();
    await db().updateTable('projection_generations').set({ created_at: threeMinutesAgo }).where('name', '=', 'orders').where('generation', '=', stalled.generation).execute();
    // Its last batch reached the head: a rebuild that took this checkpoint over would fold nothing.
    const head = positionToString((await app.eventStore.headPosition())!);
    await db().insertInto('projection_checkpoints').values({ name: `orders@g${stalled.generation}`, position: head, updated_at: threeMinutesAgo }).execute();
    // A rebuild of customers in another process, whose last batch moved its checkpoint just now.
    const moving = await generations.create(definition('customers'));
    await db().updateTable('projection_generations').set({ created_at: threeMinutesAgo }).where('name', '=', 'customers').where('generation', '=', moving.generation).execute();
    await db().insertInto('projection_checkpoints').values({ name: `customers@g${moving.generation}`, position: '1.1', updated_at: new Date().toISOString() }).execute();

    const before = await status();
    expect(before.find((row) => row.name === 'orders')!.state).toBe('rebuild-stalled');
    expect(before.find((row) => row.name === 'customers')!.state).toBe('rebuilding');

    const report = await cli('projections', 'rebuild', 'orders');
    expect(report).toContain(`orders: discarded stalled generation ${stalled.generation} (no progress since ${threeMinutesAgo})\n`);
    const orders = (await status()).find((row) => row.name === 'orders')!;
    expect(orders).toMatchObject({ state: 'current', eventsBehind: 0 });
    // Folded from the start (the stalled build's checkpoint went with it), whatever number it got.
    expect(await ordersRows()).toEqual(ordersBefore);
    expect((await generations.list()).filter((generation) => generation.name === 'orders' && generation.status === 'building')).toEqual([]);

    const again = await cli('projections', 'rebuild', 'customers');
    expect(again).not.toContain('discarded');
    expect((await generations.list()).filter((generation) => generation.status === 'building')).toEqual([moving]);
  });

  it('refuses an unknown projection by name and lists the known ones', async () => {
    await expect(cli('projections', 'rebuild', 'no-such-projection')).rejects.toThrow(/No projection named "no-such-projection"; known: customers, orders/);
  });
});
