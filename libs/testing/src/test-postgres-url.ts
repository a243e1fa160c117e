/**
 * The PostgreSQL the test suites use (running on every development and CI machine). Kept free of
 * imports so jest's global setup and teardown, which run outside its module mapping, can load it.
 */
export const TEST_POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
