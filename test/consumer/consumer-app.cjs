'use strict';
/**
 * The CommonJS consumer: a plain-JS Nest app of "another project" (no "type" in its package.json), installed from the
 * packed tarball, loading nest-redis-kit with require() through its package entries only (the root and every
 * subpath). test/consumer.e2e-spec.ts appends consumer-app.body.js (the app itself, shared with the ES module
 * consumer) to this header. Prints one line `RESULT <json>` and exits 0, or exits 1.
 *
 * env: REDIS_URL (harness redis-server; empty: start one through nest-redis-kit/testing), KEY_PREFIX (unique per run)
 */
require('reflect-metadata');
const common = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const throttling = require('@nestjs/throttler');

const format = 'commonjs';
/** The package entries, as this module system loads them. */
const entries = {
  root: require('nest-redis-kit'),
  redis: require('nest-redis-kit/redis'),
  cache: require('nest-redis-kit/cache'),
  session: require('nest-redis-kit/session'),
  messaging: require('nest-redis-kit/messaging'),
  transport: require('nest-redis-kit/transport'),
  lock: require('nest-redis-kit/lock'),
  metrics: require('nest-redis-kit/metrics'),
  ratelimit: require('nest-redis-kit/ratelimit'),
  throttler: require('nest-redis-kit/throttler'),
  testing: require('nest-redis-kit/testing'),
  schedule: require('nest-redis-kit/schedule'),
  admin: require('nest-redis-kit/admin'),
};
/** require() of this project, for the checks that mix both ways of loading. */
const requireHere = require;
