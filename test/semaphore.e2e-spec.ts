/**
 * SemaphoreService (LockModule): N holders at most, across applications; crashed holders' leases expire; typed
 * errors for a full semaphore, bad options and an unreachable Redis. Topology-aware (one server or a 3-master cluster).
 */
import { Test, type TestingModule } from '@nestjs/testing';
import {
  LockModule,
  LockNotAcquiredError,
  LockOptionsError,
  RedisModule,
  RedisUnavailableError,
  SemaphoreService,
  type RedisModuleOptions,
} from '../src';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { sleep } from '../src/core/deadline';

async function build(redis: RedisModuleOptions): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [RedisModule.forRoot(redis), LockModule.forRoot({ retryDelayMs: 10, jitterMs: 5 })],
  }).compile();
  await ref.init();
  return ref;
}

describe(`SemaphoreService (${testTopology()})`, () => {
  let redis: TestRedis;
  let a: TestingModule;
  let b: TestingModule;
  let semA: SemaphoreService;
  let semB: SemaphoreService;
  beforeAll(async () => {
    redis = await startTestRedis();
    const keyPrefix = uniquePrefix('sem');
    // two applications on the same Redis and prefix: the limit holds across both
    [a, b] = await Promise.all([
      build({ ...redis.connection, keyPrefix, commandTimeoutMs: 300 }),
      build({ ...redis.connection, keyPrefix, commandTimeoutMs: 300 }),
    ]);
    semA = a.get(SemaphoreService);
    semB = b.get(SemaphoreService);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('never lets more than `limit` holders in, across two applications, and every caller gets its turn', async () => {
    let inside = 0;
    let most = 0;
    let done = 0;
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(15);
      inside--;
      done++;
    };
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? semA : semB).using('exports', { limit: 3, ttlMs: 5_000, waitMs: 10_000 }, work),
      ),
    );
    expect(done).toBe(30);
    expect(most).toBe(3);
    expect(await semA.count('exports')).toBe(0); // every permit given back
  });

  it('a full semaphore refuses with LockNotAcquiredError and a retry hint; a released permit frees a place', async () => {
    const p1 = await semA.acquire('partner', { limit: 2, ttlMs: 5_000 });
    const p2 = await semB.acquire('partner', { limit: 2, ttlMs: 5_000 });
    expect(await semA.count('partner')).toBe(2);
    const err = await semA.acquire('partner', { limit: 2, waitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockNotAcquiredError);
    expect((err as LockNotAcquiredError).retryAfterMs).toBeGreaterThan(0);
    expect((err as LockNotAcquiredError).retryAfterMs).toBeLessThanOrEqual(5_000);
    expect(await p1.release()).toBe(true);
    expect(await p1.release()).toBe(false); // twice: no effect
    const p3 = await semA.acquire('partner', { limit: 2, waitMs: 0 });
    await Promise.all([p2.release(), p3.release()]);
  });

  it("a crashed holder's lease expires and its place is taken again; an expired permit cannot be extended", async () => {
    const crashed = await semA.acquire('batch', { limit: 1, ttlMs: 200 }); // never released
    await expect(semB.acquire('batch', { limit: 1, waitMs: 0 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    const next = await semB.acquire('batch', { limit: 1, ttlMs: 5_000, waitMs: 2_000 }); // waits for the lease
    expect(await crashed.extend(1_000)).toBe(false);
    expect(await next.extend(10_000)).toBe(true);
    expect(next.expiresAtMs).toBeGreaterThan(Date.now() + 8_000);
    await next.release();
  });

  it('keeps its keys under the prefix, one key per semaphore, gone when the last lease ends', async () => {
    const p = await semA.acquire('tidy', { limit: 5, ttlMs: 300 });
    const keys = await redis.keys('*tidy*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^test:sem:.*:lock:sem:\{tidy\}$/);
    await sleep(400);
    expect(await redis.keys('*tidy*')).toEqual([]);
    expect(await p.release()).toBe(false);
  });

  it('the key lives as long as its longest lease: a longer permit extends it, a shorter one leaves it', async () => {
    const direct = redis.client();
    try {
      const short = await semA.acquire('span', { limit: 3, ttlMs: 1_000 });
      const key = (await redis.keys('*{span}'))[0];
      expect(await direct.pttl(key)).toBeLessThanOrEqual(1_000);
      const long = await semA.acquire('span', { limit: 3, ttlMs: 60_000 });
      expect(await direct.pttl(key)).toBeGreaterThan(59_000);
      const shorter = await semB.acquire('span', { limit: 3, ttlMs: 500 });
      expect(await direct.pttl(key)).toBeGreaterThan(59_000);
      await Promise.all([short.release(), long.release(), shorter.release()]);
    } finally {
      direct.disconnect();
    }
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ limit: 2, ttlMs: -1 }, 'ttlMs'],
    [{ limit: 2, waitMs: -1 }, 'waitMs'],
  ])('bad options %j → LockOptionsError naming %s', async (options, option) => {
    const err = await semA.acquire('x', options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockOptionsError);
    expect((err as LockOptionsError).option).toBe(option);
  });

  it('counts permits taken, refused and given back in stats', async () => {
    const before = semA.stats;
    const permit = await semA.acquire('counted', { limit: 1, ttlMs: 5_000 });
    await expect(semA.acquire('counted', { limit: 1, waitMs: 0 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await permit.release()).toBe(true);
    expect(await permit.release()).toBe(false);
    const after = semA.stats;
    expect(Object.keys(after).sort()).toEqual(['acquired', 'refused', 'released', 'unavailable']);
    expect(after.acquired - before.acquired).toBe(1);
    expect(after.refused - before.refused).toBe(1);
    expect(after.released - before.released).toBe(1);
    expect(after.unavailable).toBe(before.unavailable);
  });

  it('bad names → LockOptionsError', async () => {
    await expect(semA.acquire('', { limit: 1 })).rejects.toBeInstanceOf(LockOptionsError);
    await expect(semA.acquire('sem:x', { limit: 1 })).rejects.toBeInstanceOf(LockOptionsError);
  });
});

describe(`SemaphoreService when Redis is down (${testTopology()})`, () => {
  it('acquire fails fast with RedisUnavailableError (no hang); release does not throw', async () => {
    const redis = await startTestRedis();
    const ref = await build({ ...redis.connection, keyPrefix: uniquePrefix('semdown'), commandTimeoutMs: 300 });
    try {
      const sem = ref.get(SemaphoreService);
      const held = await sem.acquire('s', { limit: 1, ttlMs: 5_000 });
      await redis.kill();
      const t0 = Date.now();
      const err = await sem.acquire('s', { limit: 1, waitMs: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(sem.stats.unavailable).toBe(1);
      await expect(held.release()).resolves.toBe(false);
    } finally {
      await ref.close();
      await redis.stop();
    }
  });
});
