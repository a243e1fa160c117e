import { TEST_POSTGRES_URL } from '@csp/testing/test-postgres-url';
import { Client } from 'pg';
import dropE2eSchemas from './e2e-on-postgres.teardown';
import { isSweptAfterRun, readModelsSchemaFor, SCHEMA_RUN_ENV, startSchemaRun } from './e2e-schema-names';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const runStartedAt = (date: Date, random: string): string => `${Math.floor(date.getTime() / 1000).toString(36)}_${random}`;
const hoursBefore = (hours: number): Date => new Date(NOW.getTime() - hours * 3_600_000);

describe('the e2e read-model schemas of one test run', () => {
  let runBefore: string | undefined;
  beforeEach(() => (runBefore = process.env[SCHEMA_RUN_ENV]));
  afterEach(() => {
    if (runBefore === undefined) delete process.env[SCHEMA_RUN_ENV];
    else process.env[SCHEMA_RUN_ENV] = runBefore;
  });

  it('are named after the run and the data directory, as PostgreSQL and the read store accept them', () => {
    const run = startSchemaRun(NOW);
    const schema = readModelsSchemaFor('/tmp/csp-e2e-abc123');
    expect(schema).toMatch(new RegExp(`^csp_e2e_${run}_[0-9a-f]{16}$`));
    expect(schema).toMatch(/^[a-z_][a-z0-9_]{0,62}$/);
    expect(readModelsSchemaFor('/tmp/csp-e2e-abc123')).toBe(schema);
    expect(readModelsSchemaFor('/tmp/csp-e2e-abc124')).not.toBe(schema);
    expect(startSchemaRun(NOW)).not.toBe(run);
  });

  it.each([
    ['its own run', true, `csp_e2e_${runStartedAt(NOW, 'aaaaaa')}_0123456789abcdef`],
    ['another run started an hour ago', false, `csp_e2e_${runStartedAt(hoursBefore(1), 'bbbbbb')}_0123456789abcdef`],
    ['another run started exactly a day ago', false, `csp_e2e_${runStartedAt(hoursBefore(24), 'bbbbbb')}_0123456789abcdef`],
    ['a run started more than a day ago', true, `csp_e2e_${runStartedAt(hoursBefore(25), 'cccccc')}_0123456789abcdef`],
    ['a name from before runs were named', true, 'csp_e2e_0123456789abcdef'],
    ['a schema that is not the e2e suite’s', false, 'csp_rm_0123456789abcdef'],
  ])('a run’s teardown, for %s: swept %s', (_case, swept, schema) => {
    expect(isSweptAfterRun(schema, runStartedAt(NOW, 'aaaaaa'), NOW)).toBe(swept);
  });

  it('are dropped by their own run’s teardown in the real PostgreSQL, while another run’s going on stay', async () => {
    const now = new Date();
    const ownRun = runStartedAt(now, 'a1a1a1');
    const otherRun = runStartedAt(now, 'b2b2b2');
    const own = `csp_e2e_${ownRun}_0000000000000001`;
    const other = `csp_e2e_${otherRun}_0000000000000002`;
    const stale = `csp_e2e_${runStartedAt(new Date(now.getTime() - 48 * 3_600_000), 'c3c3c3')}_0000000000000003`;
    const unnamed = 'csp_e2e_00000000000000f4';
    const client = new Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    const existing = async (): Promise<string[]> =>
      (
        await client.query<{ schema_name: string }>('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ANY($1) ORDER BY schema_name', [
          [own, other, stale, unnamed],
        ])
      ).rows.map((row) => row.schema_name);
    try {
      for (const schema of [own, other, stale, unnamed]) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(`CREATE TABLE ${schema}.read_store_log_binding (singleton integer primary key)`);
      }
      expect(await existing()).toHaveLength(4);

      process.env[SCHEMA_RUN_ENV] = ownRun;
      await dropE2eSchemas();

      expect(await existing()).toEqual([other]);
    } finally {
      for (const schema of [own, other, stale, unnamed]) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});
