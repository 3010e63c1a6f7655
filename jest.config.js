/** Tests sit next to the code (src, as *.test.ts) and in test/ for cross-module and HTTP suites. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // The two-replica test needs PostgreSQL (TEST_DATABASE_URL); outside CI it is left out without one.
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.TEST_DATABASE_URL || process.env.CI === 'true' ? [] : ['/test/storage/replicas\\.test\\.ts$'])],
};
