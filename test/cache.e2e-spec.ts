import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Controller, Get, Injectable, Logger, Req, UseInterceptors, type INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import {
  CacheEvict,
  CacheKeyError,
  CachePut,
  CacheSerializationError,
  CacheService,
  Cacheable,
  RedisCacheModule,
  RedisConfigError,
  RedisModule,
  RedisService,
  UserAwareCacheInterceptor,
  type RedisCacheModuleOptions,
} from '../src';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { sleep } from '../src/core/deadline';

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

@Injectable()
class UserRepo {
  calls = 0;
  names = new Map<number, string>([[1, 'Ada']]);

  @Cacheable({ key: (id: number) => `repo:user:${id}`, ttlMs: 10_000, tags: (id: number) => [`user-${id}`] })
  async find(id: number): Promise<{ id: number; name: string } | null> {
    this.calls++;
    const name = this.names.get(id);
    return name ? { id, name } : null;
  }

  @CacheEvict({ keys: (id: number) => [`repo:user:${id}`] })
  async rename(id: number, name: string): Promise<void> {
    if (!this.names.has(id)) throw new Error('no such user');
    this.names.set(id, name);
  }

  @CacheEvict({ tags: (id: number) => [`user-${id}`] })
  async touch(_id: number): Promise<void> {}

  @CachePut({ key: (id: number) => `repo:user:${id}`, ttlMs: 10_000, tags: (id: number) => [`user-${id}`] })
  async save(id: number, name: string): Promise<{ id: number; name: string }> {
    if (name === '') throw new Error('empty name');
    this.names.set(id, name);
    return { id, name };
  }

  @CachePut({ key: (id: number) => `repo:raw:${id}` })
  async raw(id: number): Promise<{ id: number; big: bigint }> {
    return { id, big: 10n };
  }
}

@Injectable()
class BadlyDecorated {
  @CachePut({ key: 'fixed' as unknown as () => string })
  async save(): Promise<number> {
    return 1;
  }
}

@Controller('who')
@UseInterceptors(UserAwareCacheInterceptor)
class WhoController {
  calls = 0;
  @Get()
  who(@Req() req: { headers: Record<string, string | undefined> }): { user: string; n: number } {
    this.calls++;
    return { user: req.headers.authorization ?? req.headers.cookie ?? 'anonymous', n: this.calls };
  }
}

// Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
describe(`RedisCacheModule (${testTopology()})`, () => {
  let redis: TestRedis;
  const modules: TestingModule[] = [];

  async function build(
    prefix: string,
    options: RedisCacheModuleOptions = {},
    extra: { providers?: any[]; controllers?: any[] } = {},
  ): Promise<TestingModule> {
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ ...redis.connection, keyPrefix: prefix }), RedisCacheModule.forRoot(options)],
      providers: extra.providers ?? [],
      controllers: extra.controllers ?? [],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    modules.push(ref);
    return ref;
  }

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    while (modules.length) await modules.pop()!.close();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('CACHE_MANAGER stores plain JSON once, with TTLs in milliseconds', async () => {
    const prefix = uniquePrefix('cm');
    const ref = await build(prefix);
    const cm = ref.get<Cache>(CACHE_MANAGER);
    await cm.set('a', { x: 1, s: 'é' }, 5_000);
    expect(await cm.get('a')).toEqual({ x: 1, s: 'é' });
    const direct = redis.client();
    expect(await direct.get(`${prefix}cache:a`)).toBe('{"x":1,"s":"é"}');
    const pttl = await direct.pttl(`${prefix}cache:a`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    await cm.mset<unknown>([
      { key: 'b', value: [1, 2] },
      { key: 'c', value: 'str', ttl: 1_000 },
    ]);
    expect(await cm.mget(['a', 'b', 'c', 'nope'])).toEqual([{ x: 1, s: 'é' }, [1, 2], 'str', undefined]);
    expect(await direct.pttl(`${prefix}cache:b`)).toBeGreaterThan(59_000); // module default 60 s
    await sleep(1_200);
    expect(await cm.get('c')).toBeUndefined();
    await cm.mdel(['a', 'b']);
    expect(await direct.exists(`${prefix}cache:a`)).toBe(0); // one key per call: they may live on two masters
    expect(await direct.exists(`${prefix}cache:b`)).toBe(0);
    direct.disconnect();
  });

  it('clear() removes only <prefix>cache:* keys (sessions and locks survive)', async () => {
    const prefix = uniquePrefix('clear');
    const other = uniquePrefix('other');
    const ref = await build(prefix);
    const cm = ref.get<Cache>(CACHE_MANAGER);
    const direct = redis.client();
    for (let i = 0; i < 2500; i++) await direct.set(`${prefix}cache:k${i}`, '1');
    await direct.set(`${prefix}sess:x`, 's');
    await direct.set(`${prefix}lock:y`, 'l');
    await direct.set(`${other}cache:z`, 'z');
    await ref.get(CacheService).getOrSet('t', () => 1, { tags: ['tg'] });
    await cm.clear();
    expect(await direct.get(`${prefix}sess:x`)).toBe('s');
    expect(await direct.get(`${prefix}lock:y`)).toBe('l');
    expect(await direct.get(`${other}cache:z`)).toBe('z');
    expect(await redis.keys(`${prefix}cache:*`)).toEqual([]); // every master
    direct.disconnect();
  });

  it('getOrSet: miss then hit, TTL expiry, negative caching', async () => {
    const ref = await build(uniquePrefix('gos'), { negativeTtlMs: 800 });
    const cache = ref.get(CacheService);
    let calls = 0;
    const loader = async () => ({ n: ++calls });
    expect(await cache.getOrSetEntry('k', loader, { ttlMs: 800 })).toEqual({ value: { n: 1 }, status: 'miss' });
    expect(await cache.getOrSetEntry('k', loader, { ttlMs: 800 })).toEqual({ value: { n: 1 }, status: 'hit' });
    await sleep(1_000);
    expect(await cache.getOrSet('k', loader, { ttlMs: 800 })).toEqual({ n: 2 });
    let nf = 0;
    const notFound = async () => {
      nf++;
      return null;
    };
    expect(await cache.getOrSet('missing', notFound)).toBeNull();
    expect(await cache.getOrSetEntry('missing', notFound)).toEqual({ value: null, status: 'hit' });
    expect(nf).toBe(1);
    await sleep(1_000);
    await cache.getOrSet('missing', notFound);
    expect(nf).toBe(2);
    const s = cache.stats;
    expect(s.negativeHits).toBe(1);
    expect(s.loads).toBe(4);
    expect(s.hits).toBeGreaterThanOrEqual(2);
  });

  it('single-flight in process: 50 concurrent callers, one loader call', async () => {
    const ref = await build(uniquePrefix('sf'));
    const cache = ref.get(CacheService);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(50);
      return 'v';
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('cold', loader)));
    expect(results.every((r) => r === 'v')).toBe(true);
    expect(calls).toBe(1);
    expect(cache.stats.coalesced).toBe(49);
  });

  it('stampede across two instances: 100 concurrent callers on a cold key, loader called at most twice', async () => {
    const prefix = uniquePrefix('stampede');
    // Generous read/write bounds: on a loaded machine a read 100 ms late would fail open and load without the lock.
    const bounds = { readTimeoutMs: 2_000, writeTimeoutMs: 2_000 };
    const [a, b] = [await build(prefix, bounds), await build(prefix, bounds)];
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(30);
      return { v: 42 };
    };
    const ca = a.get(CacheService);
    const cb = b.get(CacheService);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? ca : cb).getOrSet('hot', loader, { ttlMs: 5_000 })),
    );
    expect(results.every((r) => r.v === 42)).toBe(true);
    expect(calls).toBeLessThanOrEqual(2);
    expect(ca.stats.lockWaits + cb.stats.lockWaits).toBeGreaterThanOrEqual(1);
  });

  it('tags: invalidateTags makes every carrier a miss; tag keys expire instead of growing', async () => {
    const prefix = uniquePrefix('tags');
    const ref = await build(prefix);
    const cache = ref.get(CacheService);
    let n = 0;
    const load = async () => ++n;
    await cache.getOrSet('p1', load, { tags: ['products'], ttlMs: 2_000 });
    await cache.getOrSet('p2', load, { tags: ['products', 'featured'], ttlMs: 2_000 });
    await cache.getOrSet('u1', load, { tags: ['users'], ttlMs: 2_000 });
    expect(await cache.getOrSet('p1', load, { tags: ['products'] })).toBe(1);
    expect(await cache.invalidateTags(['featured'])).toBe(1);
    expect(await cache.getOrSet('p1', load, { tags: ['products'] })).toBe(1); // only p2 carried "featured"
    expect(await cache.get('p2')).toBeUndefined();
    await cache.invalidateTags(['products']);
    expect(await cache.getOrSet('p1', load, { tags: ['products'] })).toBe(4);
    expect(await cache.getOrSet('u1', load, { tags: ['users'] })).toBe(3);
    const direct = redis.client();
    const pttl = await direct.pttl(`${prefix}cache:tag:{products}`);
    expect(pttl).toBeGreaterThan(0);
    expect(await direct.get(`${prefix}cache:p1`)).toContain('"v":4');
    direct.disconnect();
    expect(cache.stats.tagInvalidations).toBe(2);
    await expect(cache.invalidateTags(['bad{tag}'])).rejects.toThrow(CacheKeyError);
  });

  it('stale-while-revalidate: serves the stale value at once and refreshes in the background', async () => {
    const ref = await build(uniquePrefix('swr'));
    const cache = ref.get(CacheService);
    let n = 0;
    const load = async () => {
      await sleep(50);
      return ++n;
    };
    const opts = { ttlMs: 100, staleWhileRevalidateMs: 5_000 };
    expect(await cache.getOrSet('s', load, opts)).toBe(1);
    await sleep(150);
    expect(await cache.getOrSetEntry('s', load, opts)).toEqual({ value: 1, status: 'stale' });
    await waitFor(async () => (await cache.getOrSetEntry('s', load, opts)).value === 2);
    expect(cache.stats.staleServed).toBeGreaterThanOrEqual(1);
  });

  it('@Cacheable and @CacheEvict wrap provider methods at bootstrap', async () => {
    const ref = await build(uniquePrefix('deco'), {}, { providers: [UserRepo] });
    const repo = ref.get(UserRepo);
    expect(await repo.find(1)).toEqual({ id: 1, name: 'Ada' });
    expect(await repo.find(1)).toEqual({ id: 1, name: 'Ada' });
    expect(repo.calls).toBe(1);
    expect(await repo.find(2)).toBeNull();
    expect(await repo.find(2)).toBeNull();
    expect(repo.calls).toBe(2);
    await repo.rename(1, 'Grace');
    expect(await repo.find(1)).toEqual({ id: 1, name: 'Grace' });
    expect(repo.calls).toBe(3);
    await expect(repo.rename(9, 'x')).rejects.toThrow('no such user');
    await repo.touch(1); // tag eviction
    await repo.find(1);
    expect(repo.calls).toBe(4);
  });

  it('@CachePut stores the result after success (read back by @Cacheable), nothing when the method throws', async () => {
    const ref = await build(uniquePrefix('put'), {}, { providers: [UserRepo] });
    const repo = ref.get(UserRepo);
    const cache = ref.get(CacheService);
    expect(await repo.find(1)).toEqual({ id: 1, name: 'Ada' });
    expect(await repo.save(1, 'Grace')).toEqual({ id: 1, name: 'Grace' });
    expect(await repo.find(1)).toEqual({ id: 1, name: 'Grace' }); // a hit with the new value
    expect(repo.calls).toBe(1);
    expect(await repo.save(3, 'Edsger')).toEqual({ id: 3, name: 'Edsger' });
    expect(await repo.find(3)).toEqual({ id: 3, name: 'Edsger' });
    expect(repo.calls).toBe(1);
    await expect(repo.save(4, '')).rejects.toThrow('empty name');
    expect(await cache.get('repo:user:4')).toBeUndefined();
    await repo.touch(3); // the stored entry carries the tags of @CachePut
    expect(await repo.find(3)).toEqual({ id: 3, name: 'Edsger' });
    expect(repo.calls).toBe(2);
  });

  it('@CachePut: a result without a JSON form is logged as a CacheSerializationError, and still returned', async () => {
    const ref = await build(uniquePrefix('putbad'), {}, { providers: [UserRepo] });
    const error = jest.spyOn(Logger.prototype, 'error');
    try {
      expect(await ref.get(UserRepo).raw(7)).toEqual({ id: 7, big: 10n });
      const lines = error.mock.calls.map((c) => String(c[0]));
      expect(lines.some((l) => /@CachePut on UserRepo\.raw.*Cannot cache the value of "repo:raw:7"/.test(l))).toBe(
        true,
      );
      expect(await ref.get(CacheService).get('repo:raw:7')).toBeUndefined();
    } finally {
      error.mockRestore();
    }
  });

  it('a decorator with unusable options fails at startup, naming the method', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('badput') }),
        RedisCacheModule.forRoot(),
      ],
      providers: [BadlyDecorated],
    }).compile();
    ref.useLogger(false);
    try {
      await expect(ref.init()).rejects.toThrow(
        /Invalid option "@CachePut\(BadlyDecorated\.save\)\.key": must be a function/,
      );
    } finally {
      await ref.close();
    }
  });

  it('UserAwareCacheInterceptor never caches a request with Authorization or a cookie', async () => {
    const ref = await build(uniquePrefix('http'), {}, { controllers: [WhoController] });
    const app: INestApplication = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const http = app.getHttpServer();
      const first = await request(http).get('/who').expect(200);
      expect(first.headers['x-cache']).toBe('MISS');
      const second = await request(http).get('/who').expect(200);
      expect(second.headers['x-cache']).toBe('HIT');
      expect(second.body).toEqual(first.body);
      const alice = await request(http).get('/who').set('Authorization', 'Bearer alice').expect(200);
      const bob = await request(http).get('/who').set('Authorization', 'Bearer bob').expect(200);
      expect(alice.body.user).toBe('Bearer alice');
      expect(bob.body.user).toBe('Bearer bob');
      expect(bob.headers['x-cache']).toBe('BYPASS');
      const carol = await request(http).get('/who').set('Cookie', 'connect.sid=carol').expect(200);
      expect(carol.body.user).toBe('connect.sid=carol');
    } finally {
      await app.close();
      modules.splice(modules.indexOf(ref), 1);
    }
  });

  it('bad input: empty or reserved key, values without a JSON form → typed errors', async () => {
    const ref = await build(uniquePrefix('bad'));
    const cache = ref.get(CacheService);
    const cm = ref.get<Cache>(CACHE_MANAGER);
    await expect(cache.getOrSet('', () => 1)).rejects.toThrow(CacheKeyError);
    await expect(cache.set('lock:x', 1)).rejects.toThrow(/reserved/);
    await expect(cm.set('', 1)).rejects.toThrow(CacheKeyError);
    await expect(cm.set('big', 10n)).rejects.toThrow(CacheSerializationError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(cache.set('circ', circular)).rejects.toThrow(CacheSerializationError);
    await expect(cache.getOrSet('big', async () => ({ n: 1n }))).rejects.toThrow(/Cannot cache the value of "big"/);
    await expect(cm.set('fn', () => 1)).rejects.toThrow(CacheSerializationError);
  });

  it('CACHE_MANAGER calls of concurrent callers leave batched, in three socket writes per node, each answered', async () => {
    const ref = await build(uniquePrefix('batch'));
    const cm = ref.get<Cache>(CACHE_MANAGER);
    await cm.set('k', { n: 1 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => cm.set(`w${i}`, -1))); // every node it needs is connected
    const client = ref.get(RedisService).getClient();
    const sockets = (
      client.isCluster ? (client as Cluster).nodes('all').map((n) => n.stream) : [(client as Redis).stream]
    ).filter((socket) => socket !== undefined);
    expect(sockets.length).toBeGreaterThan(0);
    let writes = 0;
    const restore = sockets.map((socket) => {
      const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
      const { _write, _writev } = s;
      s._write = (...a) => (writes++, _write.apply(socket, a));
      s._writev = (...a) => (writes++, _writev.apply(socket, a));
      return () => Object.assign(s, { _write, _writev });
    });
    try {
      const replies = await Promise.all([
        ...Array.from({ length: 25 }, () => cm.get('k')),
        ...Array.from({ length: 25 }, (_, i) => cm.set(`w${i}`, i)),
      ]);
      expect(replies.slice(0, 25)).toEqual(Array.from({ length: 25 }, () => ({ n: 1 })));
      // 50 commands: the first alone (nothing in flight yet: written at once), the next 8, then the other 41
      expect(writes).toBeLessThanOrEqual(sockets.length * 3);
      expect(await cm.get('w24')).toBe(24);
    } finally {
      for (const undo of restore) undo();
    }
  });

  it('rejects bad options at startup with RedisConfigError', () => {
    expect(() => RedisCacheModule.forRoot({ readTimeoutMs: -1 })).toThrow(RedisConfigError);
    expect(() => RedisCacheModule.forRoot({ nearCache: { maxEntries: 0 } })).toThrow(/nearCache.maxEntries/);
  });

  it('near cache: an update in A is seen in B on the next read', async () => {
    const prefix = uniquePrefix('near');
    const a = (await build(prefix, { nearCache: { maxEntries: 100 } })).get(CacheService);
    const b = (await build(prefix, { nearCache: { maxEntries: 100 } })).get(CacheService);
    await a.set('cfg', { v: 1 });
    expect(await b.getOrSet('cfg', () => ({ v: -1 }))).toEqual({ v: 1 });
    expect(await b.getOrSet('cfg', () => ({ v: -1 }))).toEqual({ v: 1 });
    expect(b.stats.nearHits).toBe(1);
    await a.set('cfg', { v: 2 });
    await waitFor(() => b.stats.invalidationsReceived >= 2);
    expect(await b.get('cfg')).toEqual({ v: 2 });
    await a.delete('cfg');
    await waitFor(() => b.stats.invalidationsReceived >= 3);
    expect(await b.get('cfg')).toBeUndefined();
    await b.getOrSet('tagged', () => 't', { tags: ['grp'] });
    await a.invalidateTags(['grp']);
    await waitFor(() => b.stats.invalidationsReceived >= 4);
    expect(await b.getOrSet('tagged', () => 't2', { tags: ['grp'] })).toBe('t2');
  });
});

describe(`RedisCacheModule when Redis fails (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('reads time out and fall through to the loader, the outage is counted once, recovery is automatic', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('down') }),
        RedisCacheModule.forRoot({ readTimeoutMs: 100, probeIntervalMs: 200 }),
      ],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    const cache = ref.get(CacheService);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');
    try {
      let n = 0;
      const load = async () => ++n;
      expect(await cache.getOrSet('k', load)).toBe(1);
      expect(await cache.getOrSet('k', load)).toBe(1);

      redis.pause(); // connection open, nothing answers: the slow case (every node of a cluster)
      const t0 = Date.now();
      const results = [];
      for (let i = 0; i < 10; i++) results.push(await cache.getOrSet('k', load));
      expect(Date.now() - t0).toBeLessThan(2_000); // without fail-open: 10 x commandTimeout (2 s)
      expect(results[results.length - 1]).toBeGreaterThan(1);
      expect(cache.stats.outages).toBe(1);
      redis.resume();

      await redis.kill(); // the down case
      const t1 = Date.now();
      for (let i = 0; i < 10; i++) await cache.getOrSet('k2', load);
      expect(Date.now() - t1).toBeLessThan(3_000);
      await redis.start();
      await waitFor(async () => (await cache.getOrSetEntry('k3', load)).status === 'hit', 15_000);
      expect(cache.stats.outages).toBeLessThanOrEqual(2);
      expect(cache.stats.errors).toBeGreaterThan(0);
      expect(cache.stats.skipped).toBeGreaterThan(0); // while failing, most calls skip Redis at once
      // logged once per outage, not once per request
      const outageLogs = warn.mock.calls.filter((c) => String(c[0]).startsWith('Redis unavailable for the cache'));
      expect(outageLogs).toHaveLength(cache.stats.outages);
      const recoveryLogs = log.mock.calls.filter((c) =>
        /^Redis is back for the cache after \d+ ms$/.test(String(c[0])),
      );
      expect(recoveryLogs).toHaveLength(cache.stats.outages);
    } finally {
      warn.mockRestore();
      log.mockRestore();
      await ref.close();
    }
  });

  it('@CachePut while Redis is down: the method runs and its result is returned, the write is skipped', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('putdown') }),
        RedisCacheModule.forRoot({ writeTimeoutMs: 200 }),
      ],
      providers: [UserRepo],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    const repo = ref.get(UserRepo);
    const cache = ref.get(CacheService);
    try {
      await redis.kill();
      const t0 = Date.now();
      expect(await repo.save(1, 'Barbara')).toEqual({ id: 1, name: 'Barbara' });
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(repo.names.get(1)).toBe('Barbara');
      expect(cache.stats.sets).toBe(0);
      await redis.start();
      await waitFor(async () => (await repo.save(2, 'Alan')) !== undefined && cache.stats.sets > 0, 15_000);
      expect(await repo.find(2)).toEqual({ id: 2, name: 'Alan' });
      expect(repo.calls).toBe(0);
    } finally {
      await ref.close();
    }
  });
});
