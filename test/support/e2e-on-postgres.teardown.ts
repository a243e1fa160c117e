import { Client } from 'pg';
import { TEST_POSTGRES_URL } from '../../libs/testing/src/test-postgres-url';

/** Drops the per-data-directory schemas that tests with their own data directories leave behind. */
export default async function dropE2eSchemas(): Promise<void> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema_name: string }>(
      "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'csp\\_e2e\\_%'",
    );
    for (const { schema_name } of rows) await client.query(`DROP SCHEMA IF EXISTS ${schema_name} CASCADE`);
  } finally {
    await client.end();
  }
}
