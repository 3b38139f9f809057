/** Tests run against the real local Postgres and Redis that `make test` starts (scripts/services.sh). */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];

module.exports = {
  // The node environment, failing a file that leaves sockets, servers or child processes open.
  testEnvironment: '<rootDir>/test/support/leak-environment.ts',
  transform: { '^.+\\.ts$': swc },
  // Tests import workspace packages from source, never from a stale dist/.
  moduleNameMapper: {
    '^@callsync/migrations$': '<rootDir>/migrations/index.ts',
    // Test and bench helpers: a subpath of @callsync/db (its package.json "exports"), not a package.
    '^@callsync/db/testing$': '<rootDir>/packages/db/src/testing/index.ts',
    // @callsync/db's areas (one entry each, package.json "exports").
    '^@callsync/db/(events|sessions|forward|reconcile|tenants|live|ops|privacy)$':
      '<rootDir>/packages/db/src/areas/$1.ts',
    '^@callsync/examples$': '<rootDir>/examples/index.ts',
    '^@callsync/(ingress|worker|dashboard)$': '<rootDir>/apps/$1/src/index.ts',
    '^@callsync/(.*)$': '<rootDir>/packages/$1/src/index.ts',
  },
  testMatch: [
    '<rootDir>/packages/*/src/**/*.test.ts',
    '<rootDir>/apps/*/src/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
    '<rootDir>/examples/**/*.test.ts',
  ],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  // No forceExit: every test closes what it opens, so Jest exits on its own. A leak shows up as
  // "did not exit one second after the test run" (find it with --detectOpenHandles).
};
