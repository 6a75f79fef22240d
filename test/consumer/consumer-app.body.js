// The consumer app itself, shared by the CommonJS and the ES module consumer: test/consumer.e2e-spec.ts appends it
// to consumer-app.cjs or consumer-app.mjs, which define `common` and `NestFactory` (Nest), `throttling`
// (@nestjs/throttler), `entries` (every nest-redis-kit entry as that module system loaded it: root, redis, cache,
// session, messaging, transport, lock, metrics, throttler, testing, schedule, admin), `format` and `requireHere`. Every feature
// module comes from its subpath entry; the root must hand out the very same classes. Without REDIS_URL, the app runs on a
// redis-server it starts through nest-redis-kit/testing, as a user's test suite would, and stops it at the end.
const { Controller, Get, HttpCode, Injectable, Inject, Module, Post, UseGuards } = common;
const { root, redis, cache, session, messaging, transport, lock, metrics, throttler, testing, schedule, admin } =
  entries;

const keyPrefix = process.env.KEY_PREFIX;
const result = {
  format,
  exports: Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, Object.keys(entry).sort()])),
  modules: [],
  checks: {},
};

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

/** Where loading `specifier` fails: the error code, or 'loaded'. */
async function loadFailure(specifier) {
  try {
    await import(specifier);
    return 'loaded';
  } catch (err) {
    return err.code;
  }
}

class RedisProbe {
  constructor(service, client, health) {
    this.redis = service;
    this.client = client;
    this.health = health;
  }
}
injectable(
  RedisProbe,
  redis.RedisService,
  redis.getRedisClientToken(redis.DEFAULT_REDIS_CLIENT),
  redis.RedisHealthIndicator,
);

/** The application's users, as SessionModule asks for them. */
const USERS = [{ id: 7, username: 'ann', password: 'ann-password-1' }];
class UserLookup extends session.SessionUserLookup {
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
  [Post('login'), HttpCode(200), UseGuards(session.LocalLoginGuard)],
  [[0, session.CurrentUser()]],
);
method(AuthController, 'me', [Get('me'), UseGuards(session.SessionAuthGuard)], [[0, session.CurrentUser()]]);

/** A route behind @nestjs/throttler's guard, counted in Redis by RedisThrottlerStorage. */
class LimitedController {
  ping() {
    return { ok: true };
  }
}
Controller('limited')(LimitedController);
method(LimitedController, 'ping', [Get(), UseGuards(throttling.ThrottlerGuard)]);

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
method(OrdersWorker, 'onOrder', [messaging.StreamConsumer({ stream: 'orders', group: 'consumer-test', blockMs: 200 })]);

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out`)), ms))]);

async function main() {
  // The app's Redis: the given REDIS_URL, or a private server from nest-redis-kit/testing.
  const own = process.env.REDIS_URL ? undefined : await testing.startRedis();
  try {
    await runApp(own ? own.connection : { url: process.env.REDIS_URL });
    if (own) {
      // What the app wrote is in that server; stop() kills it and removes its dir.
      const direct = own.client();
      try {
        result.checks.ownRedisHoldsTheData = (await direct.get(`${keyPrefix}consumer:k`)) === 'v';
      } finally {
        direct.disconnect();
      }
    }
  } finally {
    if (own) {
      const { pid, dir } = own;
      await own.stop();
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      result.checks.ownRedisStopped = !alive && !requireHere('node:fs').existsSync(dir);
    }
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** The Nest app on `connection` (RedisModule connection options), every check of it. */
async function runApp(connection) {
  // Only the entries are exported: deep imports into dist/ and the internal core are refused by "exports".
  const refused = ['nest-redis-kit/dist/redis/redis.service', 'nest-redis-kit/core', 'nest-redis-kit/dist/index.js'];
  const failures = await Promise.all(refused.map(loadFailure));
  result.checks.deepImportBlocked = failures.every((code) => code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  let required;
  try {
    requireHere('nest-redis-kit/dist/cache/index.js');
  } catch (err) {
    required = err.code;
  }
  result.checks.deepRequireBlocked = required === 'ERR_PACKAGE_PATH_NOT_EXPORTED';

  // One copy of each class, whichever entry and whichever way (import or require) it came through.
  const imported = await import('nest-redis-kit/redis');
  const requiredRedis = requireHere('nest-redis-kit/redis');
  const rootRequired = requireHere('nest-redis-kit');
  const error = new redis.RedisUnavailableError('probe');
  result.checks.oneCopyOfEachClass =
    error instanceof root.RedisUnavailableError &&
    error instanceof imported.RedisUnavailableError &&
    error instanceof rootRequired.RedisUnavailableError &&
    requiredRedis.RedisModule === root.RedisModule &&
    cache.CacheService === root.CacheService &&
    session.SessionModule === root.SessionModule &&
    messaging.EventBus === root.EventBus &&
    transport.RedisStreamsServer === root.RedisStreamsServer &&
    lock.LockService === root.LockService &&
    metrics.MetricsModule === root.MetricsModule &&
    throttler.RedisThrottlerStorage === root.RedisThrottlerStorage &&
    schedule.RedisScheduleModule === root.RedisScheduleModule;

  const imports = [
    redis.RedisModule.forRoot({ ...connection, keyPrefix }),
    // Generous bounds: on a loaded machine a read 100 ms late would fail open (a miss), which is not what this checks.
    cache.RedisCacheModule.forRoot({ defaultTtlMs: 60_000, readTimeoutMs: 2_000, writeTimeoutMs: 2_000 }),
    session.SessionModule.forRoot({
      secrets: ['consumer-test-secret-0123456789'],
      secure: false,
      userLookup: UserLookup,
    }),
    messaging.MessagingModule.forRoot({}),
    transport.RedisStreamsTransportModule.forRoot({ sendTo: 'consumer-test' }),
    lock.LockModule.forRoot({}),
    schedule.RedisScheduleModule.forRoot({}),
    metrics.MetricsModule.forRoot({ defaultMetrics: false }),
    admin.AdminModule.forRoot({ allowUnguarded: true, path: 'ops' }),
    throttling.ThrottlerModule.forRootAsync({
      inject: [redis.RedisService],
      useFactory: (service) => ({
        throttlers: [{ limit: 2, ttl: 60_000 }],
        storage: new throttler.RedisThrottlerStorage(service, { timeoutMs: 5_000, failOpen: false }),
      }),
    }),
  ];
  result.modules.push(
    'RedisModule',
    'RedisCacheModule',
    'SessionModule',
    'MessagingModule',
    'LockModule',
    'MetricsModule',
    'RedisThrottlerStorage',
  );

  class AppModule {}
  Module({
    imports,
    providers: [RedisProbe, OrdersWorker],
    controllers: [AuthController, LimitedController],
  })(AppModule);

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

    // RedisCacheModule: getOrSet loads once, then answers from Redis; the root's class is the same provider.
    const cacheService = app.get(cache.CacheService);
    let loads = 0;
    const loader = async () => ({ n: ++loads });
    const first = await cacheService.getOrSet('answer', loader);
    const second = await app.get(root.CacheService).getOrSet('answer', loader);
    result.checks.cacheLoadsOnce = loads === 1 && first.n === 1 && second.n === 1;
    result.checks.cacheCountsHit = cacheService.stats.hits >= 1;
    // CACHE_MANAGER (@nestjs/cache-manager's token) on our Keyv store: values, Buffers and ttl() as cache-manager 7 has them.
    const manager = app.get('CACHE_MANAGER');
    await manager.set('cm', { bytes: Buffer.from('x'), n: 0 }, 30_000);
    const back = await manager.get('cm');
    const expires = await manager.ttl('cm');
    result.checks.cacheManager =
      Buffer.isBuffer(back.bytes) && back.n === 0 && expires > Date.now() && expires <= Date.now() + 30_000;

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
    const bus = app.get(messaging.EventBus);
    let delivered;
    const got = new Promise((resolve) => (delivered = resolve));
    await bus.subscribe('greetings', (payload) => delivered(payload)); // resolves once Redis confirmed it
    await bus.publish('greetings', { hello: 'world' });
    result.checks.pubSub = (await withTimeout(got, 5_000, 'pub/sub')).hello === 'world';
    const worker = app.get(OrdersWorker);
    const consumed = worker.next();
    await app.get(messaging.StreamProducer).add('orders', { orderId: 1 });
    await withTimeout(consumed, 10_000, 'stream consumer');
    result.checks.streamConsumed = worker.received.some((p) => p.orderId === 1);

    // LockModule: work runs under the lock; a second holder meanwhile is refused with the root's error class.
    const locks = app.get(lock.LockService);
    const value = await locks.using('consumer-resource', async () => {
      try {
        await locks.acquire('consumer-resource', { waitMs: 0 });
        return 'not exclusive';
      } catch (err) {
        return err instanceof root.LockNotAcquiredError && err instanceof lock.LockNotAcquiredError ? 42 : String(err);
      }
    });
    result.checks.lockExclusive = value === 42;

    // RedisThrottlerStorage behind @nestjs/throttler: the third request within the window is refused.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/limited`)).status);
    result.checks.throttled = statuses.join(',') === '200,200,429';

    // Every connection (the shared client and the dedicated subscriber / stream reader) answers.
    const health = await probe.health.isHealthy('redis');
    result.health = health.redis;
    result.checks.redisHealthy = health.redis.status === 'up';

    // MetricsModule: /metrics shows the features' counters.
    const text = await (await fetch(`${base}/metrics`)).text();
    result.checks.metrics = ['nrk_cache_hits_total', 'nrk_session_logins_total 1', 'nrk_lock_acquisitions_total'].every(
      (s) => text.includes(s),
    );

    // AdminModule: the page under its own CSP, and the other features found from the installed package.
    const page = await fetch(`${base}/ops`);
    result.checks.adminPage =
      page.status === 200 && /script-src 'self'/.test(page.headers.get('content-security-policy'));
    const overview = await (await fetch(`${base}/ops/api/overview`)).json();
    result.checks.adminSeesFeatures = Object.values(overview.features).every((present) => present === true);
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`consumer app (${format}) failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
