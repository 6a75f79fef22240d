/**
 * Jest for the fault suite (`npm run test:faults`): two reference-service instances under load while the
 * harness kills, restarts or freezes Redis. Slow and separate from `npm test`; run serially.
 */
const base = require('./jest.config.js');
const e2e = base.projects.find((p) => p.displayName === 'e2e');
module.exports = {
  ...e2e,
  displayName: 'faults',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 180000,
  maxWorkers: 1,
  forceExit: true,
};
