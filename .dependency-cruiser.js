/**
 * The layer rules of the README, checked by `npm test` (`npm run lint:deps`).
 * Test files (`*.spec.ts`) may reach into libs/testing; production code may not.
 */
const SPEC = '\\.spec\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules that import each other (directly or around a loop) cannot be understood, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'The domain imports no other lib: no I/O, no Nest, no store.',
      from: { path: '^libs/domain/', pathNot: SPEC },
      to: { path: '^libs/(?!domain/)' },
    },
    {
      name: 'event-store-knows-no-domain',
      severity: 'error',
      comment: 'The log stores any event; it knows no aggregate.',
      from: { path: '^libs/event-store/', pathNot: SPEC },
      to: { path: '^libs/domain/' },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      comment: 'Shared wiring belongs in a lib (libs/engine); apps compose libs, never the other way round.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-never-import-apps',
      severity: 'error',
      comment: 'api, projector and cli each compose libs/engine; none reaches into another.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'production-code-uses-no-test-support',
      severity: 'error',
      comment: 'Fixtures, fakes and the test clock stay in tests (and out of the service).',
      from: { path: '^(apps|libs/(?!testing/))', pathNot: SPEC },
      to: { path: '^(libs/testing|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
