/**
 * The ES module consumer: a plain-JS Nest app of "another project" (`"type": "module"`), installed from the packed
 * tarball, loading nest-redis-kit with `import` through its package entries only (the root and every subpath, named
 * imports included, so that they are checked when the module links). test/consumer.e2e-spec.ts appends
 * consumer-app.body.js (the app itself, shared with the CommonJS consumer) to this header. Prints one line
 * `RESULT <json>` and exits 0, or exits 1.
 *
 * env: REDIS_URL (harness redis-server; empty: start one through nest-redis-kit/testing), KEY_PREFIX (unique per run)
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import * as common from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as throttling from '@nestjs/throttler';
import * as rootEntry from 'nest-redis-kit';
import * as redisEntry from 'nest-redis-kit/redis';
import * as cacheEntry from 'nest-redis-kit/cache';
import * as sessionEntry from 'nest-redis-kit/session';
import * as messagingEntry from 'nest-redis-kit/messaging';
import * as transportEntry from 'nest-redis-kit/transport';
import * as lockEntry from 'nest-redis-kit/lock';
import * as metricsEntry from 'nest-redis-kit/metrics';
import * as ratelimitEntry from 'nest-redis-kit/ratelimit';
import * as throttlerEntry from 'nest-redis-kit/throttler';
import * as testingEntry from 'nest-redis-kit/testing';
import * as scheduleEntry from 'nest-redis-kit/schedule';
import * as adminEntry from 'nest-redis-kit/admin';
import { RedisModule, RedisUnavailableError } from 'nest-redis-kit/redis';
import { RedisCacheModule } from 'nest-redis-kit/cache';
import { SessionModule } from 'nest-redis-kit/session';
import { MessagingModule } from 'nest-redis-kit/messaging';
import { RedisStreamsTransportModule } from 'nest-redis-kit/transport';
import { LockModule } from 'nest-redis-kit/lock';
import { MetricsModule } from 'nest-redis-kit/metrics';
import { RedisThrottlerStorage } from 'nest-redis-kit/throttler';
import { startRedis } from 'nest-redis-kit/testing';
import { RedisScheduleModule } from 'nest-redis-kit/schedule';
import { CacheService as RootCacheService } from 'nest-redis-kit';

const format = 'module';
/** The package entries, as this module system loads them. */
const entries = {
  root: rootEntry,
  redis: redisEntry,
  cache: cacheEntry,
  session: sessionEntry,
  messaging: messagingEntry,
  transport: transportEntry,
  lock: lockEntry,
  metrics: metricsEntry,
  ratelimit: ratelimitEntry,
  throttler: throttlerEntry,
  testing: testingEntry,
  schedule: scheduleEntry,
  admin: adminEntry,
};
/** require() of this project, for the checks that mix both ways of loading. */
const requireHere = createRequire(import.meta.url);
const named = [
  RedisModule,
  RedisUnavailableError,
  RedisCacheModule,
  SessionModule,
  MessagingModule,
  RedisStreamsTransportModule,
  LockModule,
  MetricsModule,
  RedisThrottlerStorage,
  RedisScheduleModule,
  RootCacheService,
  startRedis,
];
if (named.some((value) => typeof value !== 'function')) throw new Error('a named import is not a function');
