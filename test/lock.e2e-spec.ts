import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  CacheEvict,
  CacheService,
  LockLostError,
  LockModule,
  LockNotAcquiredError,
  LockOptionsError,
  LockService,
  RedisConfigError,
  RedisCacheModule,
  RedisModule,
  RedisService,
  RedisUnavailableError,
  WithLock,
  WITH_LOCK_METADATA,
  type LockModuleOptions,
  type RedisModuleOptions,
} from '../src';
import {
  onCluster,
  startCluster,
  startTestRedis,
  testTopology,
  uniquePrefix,
  type RedisClusterHandle,
  type TestRedis,
} from './support/redis-harness';
import { sleep } from '../src/core/deadline';

@Injectable()
class Counters {
  constructor(readonly locks: LockService) {}
  calls: string[] = [];

  @WithLock('item:{0}', { ttlMs: 2_000, waitMs: 5_000 })
  async bump(
    id: string,
    redisKey: string,
    client: { get(k: string): Promise<string | null>; set(k: string, v: string): Promise<unknown> },
  ): Promise<number> {
    const v = Number((await client.get(redisKey)) ?? 0);
    await sleep(1);
    await client.set(redisKey, String(v + 1));
    return this.locks.current()?.fence ?? -1;
  }

  @WithLock(['order:{0.id}', 'user:{1}'], { ttlMs: 1_000, waitMs: 0 })
  async two(_order: { id: number }, _user: string): Promise<readonly string[]> {
    return this.locks.current()?.resources ?? [];
  }
}

/** What the `@CacheEvict` key functions of {@link Documents} saw: the lock held while the eviction ran. */
const evictions: Array<{ key: string; lockedDuring: readonly string[] | undefined }> = [];
let lockService: LockService | undefined;
const evictDoc = (id: string): string[] => {
  evictions.push({ key: `doc:${id}`, lockedDuring: lockService?.current()?.resources });
  return [`doc:${id}`];
};

@Injectable()
class Documents {
  constructor(
    readonly locks: LockService,
    readonly cache: CacheService,
  ) {}

  @WithLock('doc:{0}', { ttlMs: 1_000, waitMs: 0 })
  @CacheEvict({ keys: evictDoc })
  async lockFirst(_id: string): Promise<readonly string[] | undefined> {
    return this.locks.current()?.resources;
  }

  @CacheEvict({ keys: evictDoc })
  @WithLock('doc:{0}', { ttlMs: 1_000, waitMs: 0 })
  async lockSecond(_id: string): Promise<readonly string[] | undefined> {
    return this.locks.current()?.resources;
  }
}

async function build(redis: RedisModuleOptions, lock: LockModuleOptions = {}): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [RedisModule.forRoot(redis), LockModule.forRoot(lock)],
    providers: [Counters],
  }).compile();
  await ref.init();
  return ref;
}

// Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster
// (one Redis deployment, one vote either way).
describe(`LockModule on one Redis (${testTopology()})`, () => {
  let redis: TestRedis;
  let ref: TestingModule;
  let locks: LockService;
  let prefix: string;
  beforeAll(async () => {
    redis = await startTestRedis();
    prefix = uniquePrefix('lock');
    ref = await build(
      { ...redis.connection, keyPrefix: prefix, commandTimeoutMs: 300 },
      { retryDelayMs: 20, jitterMs: 10 },
    );
    locks = ref.get(LockService);
  });
  afterAll(async () => {
    await ref?.close();
    await redis?.stop();
  });

  it('acquires and releases, with prefixed hash-tagged keys and growing fencing tokens', async () => {
    const direct = redis.client();
    const a = await locks.acquire('acc:1', { ttlMs: 5_000 });
    expect(await direct.exists(`${prefix}lock:{acc:1}`)).toBe(1);
    expect(a.fence).toBeGreaterThan(0);
    expect(a.expiresAt).toBeGreaterThan(Date.now() + 4_000);
    expect(await a.release()).toBe(true);
    expect(await direct.exists(`${prefix}lock:{acc:1}`)).toBe(0);
    const b = await locks.acquire('acc:1', { ttlMs: 5_000 });
    expect(b.fence).toBe(a.fence + 1);
    expect(await direct.get(`${prefix}lock:fence:{acc:1}`)).toBe(String(b.fence));
    const fenceTtl = await direct.pttl(`${prefix}lock:fence:{acc:1}`);
    expect(fenceTtl).toBeGreaterThan(29 * 24 * 3_600_000); // idle counters expire (default 30 days)
    await b.release();
    expect(await b.release()).toBe(false);
    direct.disconnect();
  });

  it('fence counters: TTL 9/8 of fenceTtlMs when new, renewed only once less than fenceTtlMs is left', async () => {
    const direct = redis.client();
    const fenceKey = `${prefix}lock:fence:{ttl:1}`;
    const idleMs = 30 * 24 * 3_600_000; // the default fenceTtlMs
    const first = await locks.acquire('ttl:1');
    await first.release();
    expect(await direct.pttl(fenceKey)).toBeGreaterThan(idleMs); // a new counter: 9/8 of it
    // More than fenceTtlMs left: the acquisition reads the TTL and leaves it as it is.
    await direct.pexpire(fenceKey, idleMs + 3_600_000);
    const second = await locks.acquire('ttl:1');
    await second.release();
    expect(await direct.pttl(fenceKey)).toBeLessThanOrEqual(idleMs + 3_600_000);
    expect(second.fence).toBe(first.fence + 1);
    // Less than fenceTtlMs left: renewed to 9/8 of it again.
    await direct.pexpire(fenceKey, 3_600_000);
    const third = await locks.acquire('ttl:1');
    await third.release();
    expect(await direct.pttl(fenceKey)).toBeGreaterThan(idleMs);
    expect(third.fence).toBe(second.fence + 1);
    direct.disconnect();
  });

  it('releasing an expired lock does not throw', async () => {
    const a = await locks.acquire('exp:1', { ttlMs: 50 });
    await sleep(120);
    expect(a.held).toBe(false);
    await expect(a.release()).resolves.toBe(false);
    await expect(a.extend(1_000)).rejects.toBeInstanceOf(LockLostError);
  });

  it('a busy lock gives LockNotAcquiredError with retryAfterMs', async () => {
    const a = await locks.acquire('busy:1', { ttlMs: 3_000 });
    const t0 = Date.now();
    const err = await locks.acquire('busy:1', { ttlMs: 1_000, waitMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockNotAcquiredError);
    expect((err as LockNotAcquiredError).retryAfterMs).toBeGreaterThan(2_000);
    expect((err as LockNotAcquiredError).retryAfterMs).toBeLessThanOrEqual(3_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    const once = await locks.acquire('busy:1', { waitMs: 0 }).catch((e: unknown) => e);
    expect((once as LockNotAcquiredError).attempts).toBe(1);
    await a.release();
  });

  it('50 concurrent read-modify-write increments under the lock give the exact count', async () => {
    const direct = redis.client();
    const key = `${prefix}counter:a`;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        locks.using(
          'counter:a',
          async () => {
            const v = Number((await direct.get(key)) ?? 0);
            await sleep(Math.random() * 3);
            await direct.set(key, String(v + 1));
          },
          { ttlMs: 2_000, waitMs: 20_000 },
        ),
      ),
    );
    expect(await direct.get(key)).toBe('50');
    direct.disconnect();
  });

  it('rejects bad input with a clear LockOptionsError at the call', async () => {
    const cases: Array<[unknown, unknown, string]> = [
      ['r', { ttlMs: 0 }, 'ttlMs'],
      ['r', { ttlMs: -5 }, 'ttlMs'],
      ['r', { ttlMs: 1.5 }, 'ttlMs'],
      ['r', { ttlMs: '100' }, 'ttlMs'],
      ['r', { waitMs: 2.5 }, 'waitMs'],
      ['r', { retryCount: -1 }, 'retryCount'],
      ['', {}, 'resource'],
      ['   ', {}, 'resource'],
      [[], {}, 'resources'],
      [['a', ''], {}, 'resources[1]'],
      [['a', 'a'], {}, 'resources[1]'],
      ['fence:x', {}, 'resource'],
    ];
    for (const [res, opts, option] of cases) {
      const err = await locks.acquire(res as string, opts as object).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockOptionsError);
      expect((err as LockOptionsError).option).toBe(option);
    }
    const err = await locks.using('r', () => 1, { ttlMs: 0 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ttlMs.*positive integer/);
  });

  it('keeps a job 3x longer than ttlMs safe by extending the lock', async () => {
    const before = locks.stats.extensions;
    let contenderGotIt = false;
    const job = locks.using(
      'long:1',
      async (signal) => {
        for (let i = 0; i < 9; i++) {
          await sleep(100);
          const other = await locks.acquire('long:1', { waitMs: 0 }).catch(() => undefined);
          if (other) {
            contenderGotIt = true;
            await other.release();
          }
        }
        return signal.aborted ? 'aborted' : 'done';
      },
      { ttlMs: 300 },
    );
    await expect(job).resolves.toBe('done');
    expect(contenderGotIt).toBe(false);
    expect(locks.stats.extensions - before).toBeGreaterThanOrEqual(2);
  });

  it('without auto-extension, work outliving the lease is aborted with LockLostError', async () => {
    let aborted = false;
    const err = await locks
      .using(
        'short:1',
        async (signal) => {
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          aborted = signal.aborted && signal.reason instanceof LockLostError;
          return 'too late';
        },
        { ttlMs: 100, autoExtend: false },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect(aborted).toBe(true);
  });

  it("passes the work's own error through and releases the lock", async () => {
    await expect(locks.using('fail:1', () => Promise.reject(new Error('boom')), { ttlMs: 1_000 })).rejects.toThrow(
      'boom',
    );
    const again = await locks.acquire('fail:1', { waitMs: 0 });
    await again.release();
    const thrown = () => {
      throw new Error('thrown synchronously');
    };
    await expect(locks.using('fail:1', thrown, { ttlMs: 1_000 })).rejects.toThrow('thrown synchronously');
    await (await locks.acquire('fail:1', { waitMs: 0 })).release();
  });

  it('synchronous work: its value after the release; a lease that ran out during it is LockLostError', async () => {
    expect(await locks.using('sync:1', () => 'done', { ttlMs: 1_000 })).toBe('done');
    await (await locks.acquire('sync:1', { waitMs: 0 })).release(); // released
    const busyUntilExpired = () => {
      const end = Date.now() + 120;
      while (Date.now() < end); // blocks the event loop past the 50 ms lease: no extension can run
      return 'too late';
    };
    const err = await locks.using('sync:2', busyUntilExpired, { ttlMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
  });

  it('using(): the handle as the second argument; current() only with context: true', async () => {
    const seen = await locks.using('ctx:1', async (signal, lock) => {
      await sleep(1);
      return { aborted: signal.aborted, same: locks.current() === lock, fence: lock.fence };
    });
    expect(seen).toEqual({ aborted: false, same: false, fence: expect.any(Number) });
    const inContext = await locks.using(
      'ctx:1',
      async (_signal, lock) => {
        await sleep(1);
        return locks.current() === lock;
      },
      { context: true },
    );
    expect(inContext).toBe(true);
    await expect(locks.using('ctx:1', () => 1, { context: 'yes' as unknown as boolean })).rejects.toThrow(
      LockOptionsError,
    );
  });

  it("refuses a stale holder's write by its fencing token", async () => {
    // A tiny "store" that keeps the highest token it has accepted, like UPDATE ... WHERE fence < $token.
    let stored = { value: 'init', fence: 0 };
    const write = (value: string, fence: number) => {
      if (fence <= stored.fence) return false;
      stored = { value, fence };
      return true;
    };
    const a = await locks.acquire('fenced:1', { ttlMs: 100 });
    await sleep(150); // A pauses (GC, network) beyond its lease
    const b = await locks.acquire('fenced:1', { ttlMs: 2_000 });
    expect(b.fence).toBeGreaterThan(a.fence);
    expect(write('from B', b.fence)).toBe(true);
    expect(write('from stale A', a.fence)).toBe(false);
    expect(stored.value).toBe('from B');
    await b.release();
    await a.release();
    // A store that saw a higher token (Redis restarted empty) raises the counter; it never goes down.
    expect(await locks.advanceFence('fenced:1', 1_000)).toBe(1_000);
    expect(await locks.advanceFence('fenced:1', 5)).toBe(1_000);
    const c = await locks.acquire('fenced:1');
    expect(c.fence).toBe(1_001);
    await c.release();
  });

  it('@WithLock fills templates from arguments and exposes the handle', async () => {
    const svc = ref.get(Counters);
    const direct = redis.client();
    const key = `${prefix}counter:deco`;
    const fences = await Promise.all(Array.from({ length: 20 }, () => svc.bump('x1', key, direct)));
    expect(await direct.get(key)).toBe('20');
    expect(new Set(fences).size).toBe(20);
    if (onCluster) {
      // On a Cluster one call's resources must share a hash tag (docs/lock.md): refused before Redis is asked.
      await expect(svc.two({ id: 7 }, 'ann')).rejects.toThrow(/share a hash tag/);
    } else {
      expect(await svc.two({ id: 7 }, 'ann')).toEqual(['order:7', 'user:ann']);
    }
    const err = await svc.two({} as { id: number }, 'ann').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockOptionsError);
    expect((err as Error).message).toMatch(/\{0\.id\} is undefined/);
    if (!onCluster) {
      // Busy with waitMs 0 -> LockNotAcquiredError, the method does not run. (On a Cluster two() is refused above;
      // a busy lock is the same code path as 'a busy lock gives LockNotAcquiredError with retryAfterMs'.)
      const held = await locks.acquire('order:8', { ttlMs: 2_000 });
      await expect(svc.two({ id: 8 }, 'bob')).rejects.toBeInstanceOf(LockNotAcquiredError);
      await held.release();
    }
    direct.disconnect();
  });

  it('exposes stats counters', () => {
    const s = locks.stats;
    expect(s.acquired).toBeGreaterThan(50);
    expect(s.failed).toBeGreaterThan(0);
    expect(s.released).toBeGreaterThan(0);
    expect(s.lost).toBeGreaterThanOrEqual(1);
    expect(Object.keys(s).sort()).toEqual(
      ['acquired', 'extensions', 'failed', 'lost', 'released', 'unavailable', 'waitMs'].sort(),
    );
  });
});

describe(`@WithLock with @CacheEvict on one method (${testTopology()})`, () => {
  let redis: TestRedis;
  let ref: TestingModule;
  beforeAll(async () => {
    redis = await startTestRedis();
    ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('lockevict') }),
        LockModule.forRoot({}),
        RedisCacheModule.forRoot({}),
      ],
      providers: [Documents],
    }).compile();
    await ref.init();
    lockService = ref.get(LockService);
  });
  afterAll(async () => {
    lockService = undefined;
    await ref?.close();
    await redis?.stop();
  });

  it('written before or after @CacheEvict: both run, the lock outermost (the eviction happens under it)', async () => {
    const docs = ref.get(Documents);
    const cache = ref.get(CacheService);
    evictions.length = 0;
    await cache.set('doc:d1', 'old');
    await cache.set('doc:d2', 'old');
    expect(await docs.lockFirst('d1')).toEqual(['doc:d1']);
    expect(await docs.lockSecond('d2')).toEqual(['doc:d2']);
    expect(await cache.get('doc:d1')).toBeUndefined();
    expect(await cache.get('doc:d2')).toBeUndefined();
    expect(evictions).toEqual([
      { key: 'doc:d1', lockedDuring: ['doc:d1'] },
      { key: 'doc:d2', lockedDuring: ['doc:d2'] },
    ]);
    // A busy lock: neither the method nor the eviction runs.
    await cache.set('doc:d3', 'kept');
    const held = await ref.get(LockService).acquire('doc:d3', { ttlMs: 2_000 });
    await expect(docs.lockFirst('d3')).rejects.toBeInstanceOf(LockNotAcquiredError);
    await expect(docs.lockSecond('d3')).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await cache.get('doc:d3')).toBe('kept');
    await held.release();
    // The wrapped methods keep both decorators' metadata, for whatever reads it later (guards, interceptors...).
    for (const method of [docs.lockFirst, docs.lockSecond]) {
      expect(Reflect.getMetadata(WITH_LOCK_METADATA, method)).toBeDefined();
      expect(Reflect.getMetadataKeys(method)).toHaveLength(2);
    }
  });
});

describe(`LockModule failures (${testTopology()})`, () => {
  it('validates module options at startup', async () => {
    const redis = await startTestRedis();
    const nodeUrl = redis.servers[0].url;
    try {
      for (const [opts, option] of [
        [{ defaultTtlMs: 0 }, 'lock.defaultTtlMs'],
        [{ nodes: [] }, 'lock.nodes'],
        [{ nodes: ['http://x'] }, 'lock.nodes[0].url'],
        [{ nodes: [nodeUrl, nodeUrl] }, 'lock.nodes'],
        [{ driftFactor: 2 }, 'lock.driftFactor'],
      ] as Array<[LockModuleOptions, string]>) {
        const err = await build({ ...redis.connection }, opts).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RedisConfigError);
        expect((err as RedisConfigError).option).toBe(option);
      }
    } finally {
      await redis.stop();
    }
  });

  it('refuses a @WithLock with bad options at startup, naming the method', async () => {
    @Injectable()
    class BadLock {
      @WithLock('x:{0}', { ttlMs: 0 })
      async run(_id: string): Promise<void> {}
    }
    const redis = await startTestRedis();
    try {
      const err = await Test.createTestingModule({
        imports: [RedisModule.forRoot({ ...redis.connection }), LockModule.forRoot({})],
        providers: [BadLock],
      })
        .compile()
        .then((ref) => ref.init())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockOptionsError);
      expect((err as LockOptionsError).option).toBe('@WithLock(BadLock.run).ttlMs');
      expect((err as Error).message).toMatch(/positive integer/);
    } finally {
      await redis.stop();
    }
  });

  it('a paused Redis beyond the TTL: the work is aborted and LockLostError raised', async () => {
    const redis = await startTestRedis();
    const ref = await build({ ...redis.connection, keyPrefix: uniquePrefix('pause'), commandTimeoutMs: 200 });
    try {
      const locks = ref.get(LockService);
      let sawAbort = false;
      const t0 = Date.now();
      const run = locks.using(
        'paused:1',
        async (signal) => {
          redis.pause(); // every node of a cluster
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          sawAbort = true;
          return 'result that must not be trusted';
        },
        { ttlMs: 600 },
      );
      const err = await run.catch((e: unknown) => e);
      redis.resume();
      expect(err).toBeInstanceOf(LockLostError);
      expect(sawAbort).toBe(true);
      expect(Date.now() - t0).toBeLessThan(600 + 1_000);
      expect(locks.stats.lost).toBe(1);
    } finally {
      redis.resume();
      await ref.close();
      await redis.stop();
    }
  });

  it('shutdown: running work loses its lock (signal aborted, LockLostError) and the lock is released', async () => {
    const redis = await startTestRedis();
    const prefix = uniquePrefix('close');
    const ref = await build({ ...redis.connection, keyPrefix: prefix });
    const direct = redis.client();
    try {
      const locks = ref.get(LockService);
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const run = locks
        .using('closing:1', async (signal) => {
          started();
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          return signal.reason as unknown;
        })
        .catch((e: unknown) => e);
      await running;
      expect(await direct.exists(`${prefix}lock:{closing:1}`)).toBe(1);
      await ref.close();
      const err = await run;
      expect(err).toBeInstanceOf(LockLostError);
      expect((err as Error).message).toMatch(/shutting down/);
      expect(await direct.exists(`${prefix}lock:{closing:1}`)).toBe(0);
    } finally {
      direct.disconnect();
      await redis.stop();
    }
  });

  it('Redis down: acquire fails quickly with RedisUnavailableError, never a fake success', async () => {
    const redis = await startTestRedis();
    const ref = await build({ ...redis.connection, keyPrefix: uniquePrefix('down'), commandTimeoutMs: 500 });
    try {
      const locks = ref.get(LockService);
      await redis.kill(); // every node of a cluster
      const t0 = Date.now();
      const err = await locks.acquire('down:1', { ttlMs: 1_000, waitMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(locks.stats.unavailable).toBe(1);
      const viaUsing = await locks.using('down:2', () => 'never', { ttlMs: 1_000 }).catch((e: unknown) => e);
      expect(viaUsing).toBeInstanceOf(RedisUnavailableError);
    } finally {
      await ref.close();
      await redis.stop();
    }
  });
});

describe('LockModule on a 3-master Cluster', () => {
  let cluster: RedisClusterHandle;
  let ref: TestingModule;
  beforeAll(async () => {
    cluster = await startCluster(3);
    ref = await build({ nodes: cluster.seeds, keyPrefix: uniquePrefix('cl') });
  });
  afterAll(async () => {
    await ref?.close();
    await cluster?.stop();
  });

  it('locks resources on every master and multi-resource locks with a shared tag (no CROSSSLOT)', async () => {
    const locks = ref.get(LockService);
    for (let i = 0; i < 20; i++) {
      const h = await locks.acquire(`sku:${i}`, { ttlMs: 1_000 });
      expect(h.fence).toBe(1);
      await h.release();
    }
    const multi = await locks.acquire(['{order:42}:a', '{order:42}:b', '{order:42}:c'], { ttlMs: 1_000 });
    expect(Object.values(multi.fences)).toEqual([1, 1, 1]);
    await expect(locks.acquire('{order:42}:b', { waitMs: 0 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await multi.release()).toBe(true);
    const err = await locks.acquire(['a:1', 'b:2']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockOptionsError);
    expect((err as Error).message).toMatch(/share a hash tag/);
    const svc = ref.get(Counters);
    const err2 = await svc.two({ id: 1 }, 'x').catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(LockOptionsError);
  });

  it('keeps mutual exclusion on Cluster', async () => {
    const locks = ref.get(LockService);
    const redis = ref.get(RedisService);
    const client = redis.getClient();
    const key = `${redis.keyPrefix}{counter:c}`;
    await Promise.all(
      Array.from({ length: 30 }, () =>
        locks.using(
          'counter:c',
          async (_s, h) => {
            const v = Number((await client.get(key)) ?? 0);
            await client.set(key, String(v + 1));
            return h.fence;
          },
          { ttlMs: 2_000, waitMs: 20_000 },
        ),
      ),
    );
    expect(await client.get(key)).toBe('30');
  });
});
