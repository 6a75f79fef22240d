'use strict';
/**
 * A tiny Nest application of "another project": plain CommonJS, installed from the packed tarball,
 * importing nest-redis-kit through its package entry only. Run by test/consumer.e2e-spec.ts in a
 * temporary folder outside the repository. Prints one line `RESULT <json>` and exits 0, or exits 1.
 *
 * env: REDIS_URL (harness redis-server), KEY_PREFIX (unique per run)
 */
require('reflect-metadata');
const { Controller, Get, HttpCode, Injectable, Inject, Module, Post, UseGuards } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const kit = require('nest-redis-kit');

const url = process.env.REDIS_URL;
const keyPrefix = process.env.KEY_PREFIX;
const result = { exports: Object.keys(kit).sort(), modules: [], checks: {} };

/** Decorators without TypeScript: what `@Injectable()` and `@Inject(token)` on constructor parameters do. */
function injectable(cls, ...tokens) {
  Injectable()(cls);
  tokens.forEach((token, index) => Inject(token)(cls, undefined, index));
  return cls;
}

/** Applies method decorators (and parameter decorators as `[index, decorator]`) to `cls.prototype[name]`. */
function method(cls, name, decorators, params = []) {
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name);
  for (const d of decorators) d(cls.prototype, name, descriptor);
  for (const [index, d] of params) d(cls.prototype, name, index);
  Object.defineProperty(cls.prototype, name, descriptor);
}

class RedisProbe {
  constructor(redis, client, health) {
    this.redis = redis;
    this.client = client;
    this.health = health;
  }
}
injectable(RedisProbe, kit.RedisService, kit.getRedisClientToken(kit.DEFAULT_REDIS_CLIENT), kit.RedisHealthIndicator);

/** The application's users, as SessionModule asks for them. */
const USERS = [{ id: 7, username: 'ann', password: 'ann-password-1' }];
class UserLookup extends kit.SessionUserLookup {
  async validateCredentials(username, password) {
    const u = USERS.find((x) => x.username === username && x.password === password);
    return u ? { id: u.id, username: u.username } : null;
  }
  async findById(id) {
    const u = USERS.find((x) => String(x.id) === id);
    return u ? { id: u.id, username: u.username } : null;
  }
  getId(user) {
    return user.id;
  }
}
injectable(UserLookup);

class AuthController {
  login(user) {
    return user;
  }
  me(user) {
    return user;
  }
}
Controller('auth')(AuthController);
method(
  AuthController,
  'login',
  [Post('login'), HttpCode(200), UseGuards(kit.LocalLoginGuard)],
  [[0, kit.CurrentUser()]],
);
method(AuthController, 'me', [Get('me'), UseGuards(kit.SessionAuthGuard)], [[0, kit.CurrentUser()]]);

/** A durable stream consumer found by discovery, like a `@StreamConsumer()` method in TypeScript. */
class OrdersWorker {
  constructor() {
    this.received = [];
    this.waiters = [];
  }
  async onOrder(payload) {
    this.received.push(payload);
    for (const w of this.waiters.splice(0)) w();
  }
  next() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
injectable(OrdersWorker);
method(OrdersWorker, 'onOrder', [kit.StreamConsumer({ stream: 'orders', group: 'consumer-test', blockMs: 200 })]);

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out`)), ms))]);

async function main() {
  // The package exposes its entry only: deep imports into dist/ are refused by "exports".
  try {
    require('nest-redis-kit/dist/redis/redis.service');
    result.checks.deepImportBlocked = false;
  } catch (err) {
    result.checks.deepImportBlocked = err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  }

  const imports = [
    kit.RedisModule.forRoot({ url, keyPrefix }),
    kit.RedisCacheModule.forRoot({ defaultTtlMs: 60_000 }),
    kit.SessionModule.forRoot({ secrets: ['consumer-test-secret-0123456789'], secure: false, userLookup: UserLookup }),
    kit.MessagingModule.forRoot({}),
    kit.LockModule.forRoot({}),
    kit.MetricsModule.forRoot({ defaultMetrics: false }),
  ];
  result.modules.push(
    'RedisModule',
    'RedisCacheModule',
    'SessionModule',
    'MessagingModule',
    'LockModule',
    'MetricsModule',
  );

  class AppModule {}
  Module({ imports, providers: [RedisProbe, OrdersWorker], controllers: [AuthController] })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  try {
    // RedisModule: shared client, key prefix, health of every connection.
    const probe = app.get(RedisProbe);
    const key = `${probe.redis.prefixFor('consumer')}k`;
    await probe.client.set(key, 'v', 'PX', 60_000);
    result.checks.redisRoundTrip = (await probe.client.get(key)) === 'v';
    result.checks.prefix = key.startsWith(keyPrefix);

    // RedisCacheModule: getOrSet loads once, then answers from Redis.
    const cache = app.get(kit.CacheService);
    let loads = 0;
    const loader = async () => ({ n: ++loads });
    const first = await cache.getOrSet('answer', loader);
    const second = await cache.getOrSet('answer', loader);
    result.checks.cacheLoadsOnce = loads === 1 && first.n === 1 && second.n === 1;
    result.checks.cacheCountsHit = cache.stats.hits >= 1;

    // SessionModule: login sets a session cookie that authenticates the next request.
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ann', password: 'ann-password-1' }),
    });
    const cookie = (login.headers.get('set-cookie') || '').split(';')[0];
    result.checks.sessionLogin = login.status === 200 && cookie.startsWith('nrk.sid=');
    const me = await fetch(`${base}/auth/me`, { headers: { cookie } });
    result.checks.sessionAuthenticates = me.status === 200 && (await me.json()).username === 'ann';
    result.checks.sessionRefusesAnonymous = (await fetch(`${base}/auth/me`)).status === 401;

    // MessagingModule: pub/sub round trip, and a durable stream message reaching the discovered consumer.
    const bus = app.get(kit.EventBus);
    const got = new Promise((resolve) => bus.subscribe('greetings', (payload) => resolve(payload)));
    await new Promise((r) => setTimeout(r, 50));
    await bus.publish('greetings', { hello: 'world' });
    result.checks.pubSub = (await withTimeout(got, 5_000, 'pub/sub')).hello === 'world';
    const worker = app.get(OrdersWorker);
    const consumed = worker.next();
    await app.get(kit.StreamProducer).add('orders', { orderId: 1 });
    await withTimeout(consumed, 10_000, 'stream consumer');
    result.checks.streamConsumed = worker.received.some((p) => p.orderId === 1);

    // LockModule: work runs under the lock; a second holder meanwhile is refused.
    const locks = app.get(kit.LockService);
    const value = await locks.using('consumer-resource', async () => {
      try {
        await locks.acquire('consumer-resource', { waitMs: 0 });
        return 'not exclusive';
      } catch (err) {
        return err instanceof kit.LockNotAcquiredError ? 42 : String(err);
      }
    });
    result.checks.lockExclusive = value === 42;

    // Every connection (the shared client and the dedicated subscriber / stream reader) answers.
    const health = await probe.health.isHealthy('redis');
    result.health = health.redis;
    result.checks.redisHealthy = health.redis.status === 'up';

    // MetricsModule: /metrics shows the features' counters.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    result.checks.metrics = ['nrk_cache_hits_total', 'nrk_session_logins_total 1', 'nrk_lock_acquisitions_total'].every(
      (s) => metrics.includes(s),
    );
  } finally {
    await app.close();
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`consumer app failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
