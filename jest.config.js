/**
 * Jest: unit tests next to the code (src/**\/*.spec.ts, plus test/*.spec.ts for the repository itself), e2e tests
 * against real redis-server in test/ (and PostgreSQL: the embedded server unless PG_ADMIN_URL is set).
 * REDIS_TOPOLOGY=cluster (`npm run test:cluster`): only the topology-aware e2e suites, on a 3-master cluster.
 * JEST_SUITES=database (`npm run test:postgres`): only the suites that use PostgreSQL, on PG_ADMIN_URL's server.
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
  'test/session-limits.e2e-spec.ts',
  'test/session-login.e2e-spec.ts',
  'test/messaging.e2e-spec.ts',
  'test/messaging-orders.e2e-spec.ts',
  'test/messaging-pipeline.e2e-spec.ts',
  'test/messaging-delayed.e2e-spec.ts',
  'test/lock.e2e-spec.ts',
  'test/semaphore.e2e-spec.ts',
  'test/lock-app.e2e-spec.ts',
  'test/app/users.e2e-spec.ts',
  'test/core.e2e-spec.ts',
  'test/decorators.e2e-spec.ts',
  'test/app/catalog.e2e-spec.ts',
  'test/keyv-contract.e2e-spec.ts',
  'test/schedule.e2e-spec.ts',
  'test/app/order-expiry.e2e-spec.ts',
  'test/app/order-reminder.e2e-spec.ts',
  'test/app/order-reserve.e2e-spec.ts',
  'test/transport.e2e-spec.ts',
  'test/ratelimit.e2e-spec.ts',
  'test/admin.e2e-spec.ts',
  'test/tracing.e2e-spec.ts',
];

/**
 * The suites that use PostgreSQL (the reference service through test/support/app-boot.ts or app.ts, or databases of
 * test/support/test-database.ts), found by their imports. `npm run test:postgres` (JEST_SUITES=database) runs only
 * them, against the PostgreSQL at PG_ADMIN_URL; `npm test` runs them on the embedded server unless it is set.
 */
function databaseSuites() {
  const { readdirSync, readFileSync } = require('node:fs');
  const { join, relative } = require('node:path');
  const uses = /from '[./]+\/(support\/)?(app-boot|app|test-database)'/;
  return readdirSync(join(__dirname, 'test'), { recursive: true })
    .filter((f) => f.endsWith('.e2e-spec.ts'))
    .map((f) => join(__dirname, 'test', f))
    .filter((f) => uses.test(readFileSync(f, 'utf8')))
    .map((f) => relative(__dirname, f));
}

const suites = process.env.JEST_SUITES || 'all';
if (suites !== 'all' && suites !== 'database') {
  throw new Error(`JEST_SUITES must be "all" or "database", got "${suites}"`);
}
if (suites === 'database' && !process.env.PG_ADMIN_URL && !process.env.DATABASE_URL) {
  throw new Error('JEST_SUITES=database (npm run test:postgres) runs against a PostgreSQL: set PG_ADMIN_URL');
}

const topology = process.env.REDIS_TOPOLOGY || 'standalone';
if (topology !== 'standalone' && topology !== 'cluster') {
  throw new Error(`REDIS_TOPOLOGY must be "standalone" or "cluster", got "${topology}"`);
}

const e2e = {
  ...common,
  displayName: 'e2e',
  testMatch:
    topology === 'cluster'
      ? TOPOLOGY_SUITES.map((suite) => `<rootDir>/${suite}`)
      : suites === 'database'
        ? databaseSuites().map((suite) => `<rootDir>/${suite}`)
        : ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  projects:
    topology === 'cluster' || suites === 'database'
      ? [e2e]
      : [
          { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/*.spec.ts'] },
          e2e,
        ],
  testTimeout: 60000,
  // `npm test`: two suites at a time (each waits on its own redis-servers and timers far more than it computes);
  // the cluster run, whose suites start a 3-master cluster each, stays one at a time.
  maxWorkers: topology === 'cluster' ? 1 : 2,
  // A suite that leaves a socket half-closed must not keep CI waiting: servers are reaped by the harness anyway.
  forceExit: true,
};
