/**
 * Type checking runs once in `npm run typecheck`; jest only transpiles, which keeps a 2-core run fast.
 * Three projects: every test on the default stores, then the e2e suite again on the EventStoreDB
 * adapter (log) and again with the read models in PostgreSQL.
 */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // jose 6 is ESM-only; Node 20.19+ loads it through require(esm), jest's module system does not.
    '^.+/node_modules/jose/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
};

module.exports = {
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-line.reporter.js'],
  projects: [
    {
      ...shared,
      displayName: 'all',
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e-eventstoredb',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/*.e2e.spec.ts'],
      setupFiles: ['<rootDir>/test/support/e2e-on-eventstoredb.setup.ts'],
    },
    {
      ...shared,
      displayName: 'e2e-postgres',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/*.e2e.spec.ts'],
      setupFiles: ['<rootDir>/test/support/e2e-on-postgres.setup.ts'],
      globalSetup: '<rootDir>/test/support/e2e-on-postgres.global-setup.ts',
      globalTeardown: '<rootDir>/test/support/e2e-on-postgres.teardown.ts',
    },
  ],
};
