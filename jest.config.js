// Tests are compiled by tsc first (npm test) and run as native ESM: no
// transform, so @kubernetes/client-node and the Google clients load as in production.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  transform: {},
  setupFiles: ['<rootDir>/dist/test/support/offline-guard.js'],
  testTimeout: 30000,
};
