// Puts the read models in the real PostgreSQL for the e2e harness in the `e2e-postgres` jest project.
process.env['E2E_READ_MODELS'] = 'postgres';
