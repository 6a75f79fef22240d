/**
 * Benchmark `lock` (`npm run bench -- lock`), on one private redis-server, through the shared bench runner
 * (alternating rounds, median of per-round ratios, bench/results/lock.json):
 *  1. uncontended acquire + release through LockService (fencing on, the default) vs the raw
 *     @sesamecare-oss/redlock package on the same client, 1 caller and 50 callers             (target >= 0.9)
 *  2. the same with fencing off (like for like)                                                 (target >= 0.9)
 *  3. LockService vs a bare `SET NX PX` + Lua compare-and-delete release loop (the ceiling)      (reported)
 *  4. `using()` with empty work (watchdog, abort signal, lock context) vs acquire + release, 50 callers
 *     (reported; last, because its AsyncLocalStorage switches on promise hooks for the whole process)
 *  5. extras: contended throughput, 50 workers taking turns on ONE key (acquire, non-atomic GET/SET increment,
 *     release; the count is checked), and acquire latency p50/p99 uncontended and contended.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redlock } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { LockModule, LockService, RedisModule, RedisService } from '../src';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { percentile, runBench, type BenchExtra } from './support/bench-runner';

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const CONTENDED_WORKERS = 50;
const CONTENDED_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);

void runBench('lock', async () => {
  const server = await startRedis();
  const prefix = uniquePrefix('lockbench');
  @Module({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix: prefix }),
      LockModule.forRoot({ retryDelayMs: 5, jitterMs: 5 }),
    ],
  })
  class BenchModule {}
  const ctx = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  const redis = ctx.get(RedisService);
  const client = redis.getClient() as Redis & { benchRelease(key: string, value: string): Promise<number> };
  client.defineCommand('benchRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  const locks = ctx.get(LockService);
  const unfenced = new LockService(redis, { fencing: false });
  await unfenced.onModuleInit();
  const raw = new Redlock([client], { retryCount: 0 });
  // Calls cycle through 10 000 resources: no contention (a resource comes back 10 000 calls later), and the fencing
  // counters exist after the first lap, as they do for the resources of a real service.
  let n = 0;
  const next = () => n++ % 10_000;
  const keyOf = (i: number) => `${prefix}lock:{u:${i}}`;

  const rawOp = async () => {
    const l = await raw.acquire([keyOf(next())], 10_000);
    await l.release();
  };
  const ours = (svc: LockService) => async () => {
    const h = await svc.acquire(`u:${next()}`, { ttlMs: 10_000, waitMs: 0 });
    await h.release();
  };
  const using = () => locks.using(`u:${next()}`, () => undefined, { ttlMs: 10_000, waitMs: 0 });
  const bare = async () => {
    const key = keyOf(next());
    const value = randomBytes(16).toString('hex');
    if ((await client.set(key, value, 'PX', 10_000, 'NX')) !== 'OK') throw new Error('busy');
    await client.benchRelease(key, value);
  };

  const extras = async (): Promise<BenchExtra[]> => {
    const rows: BenchExtra[] = [];
    const uncontended: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t0 = performance.now();
      const h = await locks.acquire(`lat:${i}`, { ttlMs: 10_000, waitMs: 0 });
      uncontended.push(performance.now() - t0);
      await h.release();
    }
    rows.push({
      case: 'acquire only, uncontended, 1 caller (latency)',
      opsPerSec: 1000 / (uncontended.reduce((a, b) => a + b, 0) / uncontended.length),
      p50Ms: percentile(uncontended, 50),
      p99Ms: percentile(uncontended, 99),
    });
    const counterKey = `${prefix}bench:counter`;
    const waits: number[] = [];
    let done = 0;
    const deadline = performance.now() + CONTENDED_MS;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONTENDED_WORKERS }, async () => {
        while (performance.now() < deadline) {
          const a = performance.now();
          const h = await locks.acquire('hot', { ttlMs: 5_000, waitMs: 60_000, retryDelayMs: 5, jitterMs: 5 });
          waits.push(performance.now() - a);
          const v = Number((await client.get(counterKey)) ?? 0);
          await client.set(counterKey, String(v + 1));
          await h.release();
          done++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const counted = Number(await client.get(counterKey));
    if (counted !== done)
      throw new Error(`contended counter ${counted} != ${done} critical sections: exclusion broken`);
    rows.push({
      case: `contended: ${CONTENDED_WORKERS} workers on one key, locks/s (acquire latency)`,
      opsPerSec: done / seconds,
      p50Ms: percentile(waits, 50),
      p99Ms: percentile(waits, 99),
    });
    return rows;
  };

  return {
    pairs: [
      {
        case: 'acquire+release: LockService (fenced) / raw redlock, 1 caller',
        baseline: rawOp,
        subject: ours(locks),
        concurrency: 1,
        target: 0.9,
      },
      {
        case: 'acquire+release: LockService (fenced) / raw redlock, 50 callers',
        baseline: rawOp,
        subject: ours(locks),
        target: 0.9,
      },
      {
        case: 'acquire+release: LockService (fencing off) / raw redlock, 50 callers',
        baseline: rawOp,
        subject: ours(unfenced),
        target: 0.9,
      },
      {
        case: 'acquire+release: LockService (fenced) / bare SET NX PX + Lua release (ceiling)',
        baseline: bare,
        subject: ours(locks),
      },
      {
        case: 'using() (empty work) / acquire+release, LockService (fenced), 50 callers',
        baseline: ours(locks),
        subject: using,
      },
    ],
    extras,
    teardown: async () => {
      await ctx.close();
      await server.stop();
    },
  };
});
