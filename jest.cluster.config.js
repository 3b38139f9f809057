/** `make test-cluster`: the same set-up as jest.config.js, for the tests that need a Redis Cluster. */
const base = require('./jest.config.js');

module.exports = { ...base, testMatch: ['<rootDir>/test-cluster/**/*.test.ts'], maxWorkers: 1 };
