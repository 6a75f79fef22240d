/**
 * The store's hot path (one ioredis Command per get/set, bounded by a shared sweeper instead of a timer per
 * command) against a frozen Redis: every call settles within its timeout plus the sweep period, as a miss or a
 * skipped write, and later calls work again after the server resumes. Topology-aware: on a cluster every master is
 * frozen.
 */
import { Test } from '@nestjs/testing';
import { RedisCacheModule, RedisKeyvStore, RedisModule } from '../src';
import { startTestRedis, uniquePrefix, type TestRedis } from './support/redis-harness';

describe('RedisKeyvStore when Redis stops answering', () => {
  let server: TestRedis;
  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('settles concurrent gets and sets within their timeouts (miss / skipped write), then recovers', async () => {
    const readTimeoutMs = 100;
    const writeTimeoutMs = 300;
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...server.connection, keyPrefix: uniquePrefix('failopen'), commandTimeoutMs: 10_000 }),
        RedisCacheModule.forRoot({ readTimeoutMs, writeTimeoutMs, probeIntervalMs: 50 }),
      ],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    const store = ref.get(RedisKeyvStore);
    try {
      expect(await store.set('a', { value: 1 }, 60_000)).toBe(true);
      expect(await store.get('a')).toEqual({ value: 1 });

      server.pause();
      const timed = async <T>(p: Promise<T>) => {
        const t0 = Date.now();
        const value = await p;
        return { value, ms: Date.now() - t0 };
      };
      const gets = Array.from({ length: 50 }, () => timed(store.get('a')));
      const sets = Array.from({ length: 50 }, (_, i) => timed(store.set(`b${i}`, { value: i }, 60_000)));
      const [g, s] = await Promise.all([Promise.all(gets), Promise.all(sets)]);
      server.resume();

      expect(g.every((r) => r.value === undefined)).toBe(true);
      expect(s.every((r) => r.value === false)).toBe(true);
      // settled by the store's own deadline, not by commandTimeout (10 s); 2 s of margin for a loaded machine
      expect(Math.max(...g.map((r) => r.ms))).toBeLessThan(readTimeoutMs + 2_000);
      expect(Math.max(...s.map((r) => r.ms))).toBeLessThan(writeTimeoutMs + 2_000);
      expect(Math.min(...s.map((r) => r.ms))).toBeGreaterThanOrEqual(writeTimeoutMs - 5); // writes wait their own, longer timeout

      // after the freeze: the store answers again (probing while failing, then back to normal)
      const deadline = Date.now() + 5_000;
      while ((await store.get('a')) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await store.get('a')).toEqual({ value: 1 });
      expect(await store.set('c', { value: 3 }, 60_000)).toBe(true);
    } finally {
      await ref.close();
    }
  });
});
