// Two projects: unit specs beside the code (pure logic, no services) and end-to-end specs in
// test/ against the real Postgres and RabbitMQ. `npm test` (scripts/test/run-tests.ts) runs
// both, one file at a time, because the e2e files share one database and one vhost (the run's
// own: concurrent runs never share them).
// Transpile only (type-checking is `npm run typecheck`): fast, and keeps decorator metadata.
const tsJest = ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }];
// content-disposition@3 (under @fastify/static, which serves Swagger UI) is ESM-only: Node
// requires it natively, Jest's module runtime cannot, so Jest transpiles that package.
const esmOnly = [
  'ts-jest',
  { isolatedModules: true, tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true } },
];
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];
const moduleNameMapper = {
  '^@app/(registrations|persistence|messaging|config|observability|reconcile)(/.*)?$':
    '<rootDir>/libs/$1/src$2',
};
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: ['<rootDir>/{apps,libs,scripts,web}/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest, 'node_modules/content-disposition/.+\\.js$': esmOnly },
      transformIgnorePatterns,
      moduleNameMapper,
      testEnvironment: 'node',
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest, 'node_modules/content-disposition/.+\\.js$': esmOnly },
      transformIgnorePatterns,
      moduleNameMapper,
      // Node's, plus closing whatever a file left open (test/support/e2e-environment.ts).
      testEnvironment: '<rootDir>/test/support/e2e-environment.ts',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
