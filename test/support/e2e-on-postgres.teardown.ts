import { Client } from 'pg';
import { TEST_POSTGRES_URL } from '../../libs/testing/src/test-postgres-url';
import { isSweptAfterRun, currentSchemaRun } from './e2e-schema-names';

/**
 * Drops the per-data-directory schemas this run's tests leave behind (tests with their own data
 * directories), and those of runs that ended without a teardown; never another run's still going.
 */
export default async function dropE2eSchemas(): Promise<void> {
  const run = currentSchemaRun();
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema_name: string }>(
      "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'csp\\_e2e\\_%'",
    );
    for (const { schema_name } of rows) {
      if (isSweptAfterRun(schema_name, run)) await client.query(`DROP SCHEMA IF EXISTS ${schema_name} CASCADE`);
    }
  } finally {
    await client.end();
  }
}
