import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import { SqliteEventStore, type LogPosition } from '@csp/event-store';
import { openSqliteReadModels, projectionRegistry, type ReadModelDb } from '@csp/read-models';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { ProjectionOperations } from './projection-operations';
import { SupervisedProjection } from './supervised-projection';

describe('SupervisedProjection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csp-supervised-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'));
  const opened: ReadModelDb[] = [];
  let supervised: SupervisedProjection | undefined;

  afterAll(async () => {
    await supervised?.stop();
    for (const db of opened) await db.destroy();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function register(customerId: string): Promise<LogPosition> {
    const data: CustomerRegistered['data'] = { customerId, partnerId: 'partner-1', companyName: customerId, domain: `${customerId}.example`, country: 'DE', registeredAt: '2026-12-03T00:00:00.000Z' };
    return (await store.appendToStream(`customer-${customerId}`, [{ id: uuidv7(), type: 'CustomerRegistered', data }], { expectedRevision: 'no_stream' })).position;
  }

  // As `projections rebuild` does it while the service runs: the views switch to fresh tables and the
  // tables the service's runner writes to are dropped under it.
  it('follows a generation another process rebuilt and switched to, and says so without an error', async () => {
    const readStore = join(dir, 'read-models.db');
    const service = await openSqliteReadModels(readStore);
    const otherProcess = await openSqliteReadModels(readStore);
    opened.push(service, otherProcess);
    const customers = projectionRegistry.find((projection) => projection.name === 'customers')!;
    const lines: string[] = [];
    const errors: string[] = [];
    supervised = new SupervisedProjection(customers, store, service, {
      onProgress: () => undefined,
      logger: { log: (line) => lines.push(line), error: (line) => errors.push(line) },
    });
    const before = await register('before');
    await supervised.start();
    expect(await supervised.waitFor(before, 5000)).toBe(true);

    await new ProjectionOperations(store, otherProcess, projectionRegistry).rebuild('customers');
    const after = await register('after');

    expect(await supervised.waitFor(after, 5000)).toBe(true);
    const rows = await service.selectFrom('customers').select('id').orderBy('id').execute();
    expect(rows.map((row) => row.id)).toEqual(['after', 'before']);
    expect(lines).toContainEqual(expect.stringMatching(/^generation 1 was replaced by generation 2 \(rebuilt by another process\); following it$/));
    expect(errors).toEqual([]);
  });
});
