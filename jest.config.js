/**
 * Jest: unit tests next to the code (src/**\/*.spec.ts), e2e tests against real redis-server in test/.
 * REDIS_TOPOLOGY=cluster (`npm run test:cluster`): only the topology-aware e2e suites, on a 3-master cluster.
 */
const swc = ['@swc/jest', require('./scripts/swc.options.cjs')];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs)/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

/**
 * The topology-aware suites: they get Redis from startTestRedis() (test/support/redis-harness.ts), so they run on
 * one redis-server (`npm test`) or, with REDIS_TOPOLOGY=cluster (`npm run test:cluster`), on a 3-master cluster.
 * The one list: a suite converted to startTestRedis() is added here. The other suites do not depend on the topology
 * (or start the topology they test themselves, like the *-cluster suites) and the unit tests do not use Redis, so
 * the cluster run leaves them to `npm test`.
 */
const TOPOLOGY_SUITES = [
  'test/cache.e2e-spec.ts',
  'test/cache-failopen.e2e-spec.ts',
  'test/cache-app.e2e-spec.ts',
  'test/session.e2e-spec.ts',
  'test/messaging.e2e-spec.ts',
  'test/messaging-orders.e2e-spec.ts',
  'test/lock.e2e-spec.ts',
  'test/semaphore.e2e-spec.ts',
  'test/lock-app.e2e-spec.ts',
  'test/app/users.e2e-spec.ts',
  'test/core.e2e-spec.ts',
  'test/app/catalog.e2e-spec.ts',
];

const topology = process.env.REDIS_TOPOLOGY || 'standalone';
if (topology !== 'standalone' && topology !== 'cluster') {
  throw new Error(`REDIS_TOPOLOGY must be "standalone" or "cluster", got "${topology}"`);
}

const e2e = {
  ...common,
  displayName: 'e2e',
  testMatch:
    topology === 'cluster' ? TOPOLOGY_SUITES.map((suite) => `<rootDir>/${suite}`) : ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  projects:
    topology === 'cluster'
      ? [e2e]
      : [{ ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] }, e2e],
  testTimeout: 60000,
  // A suite that leaves a socket half-closed must not keep CI waiting: servers are reaped by the harness anyway.
  forceExit: true,
};
