/**
 * Benchmark `lock` (`npm run bench -- lock`; standalone: `node -r ./test/messaging/swc-register.cjs bench/lock.bench.ts`).
 *
 * On one private redis-server, in one run:
 *  1. uncontended acquire + release through LockService (fencing on, the default) vs the raw
 *     @sesamecare-oss/redlock package on the same client                                    (target >= 0.9)
 *  2. the same with fencing off (like for like: no fencing INCR)                              (target >= 0.9)
 *  3. LockService vs a bare `SET NX PX` + Lua compare-and-delete release loop (the ceiling)    (reported)
 *  4. contended throughput: 50 workers taking turns on ONE key (acquire, INCR, release), locks/s
 *  5. p50 / p99 acquire latency, uncontended (sequential) and contended (50 workers)
 * Short paired rounds alternate baseline and subject; the median of the per-round ratios is kept.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redlock } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { LockModule, LockService, RedisModule, RedisService } from '../src';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 7 : 15;
const OPS = QUICK ? 1_000 : 2_000;
const CONCURRENCY = 8;
const CONTENDED_WORKERS = 50;
const CONTENDED_MS = QUICK ? 2_000 : 4_000;

/** One figure of the report. */
export interface BenchLine {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function opsPerSec(op: (i: number) => Promise<unknown>, ops: number, concurrency: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  return ops / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function compare(
  baseline: (i: number) => Promise<unknown>,
  subject: (i: number) => Promise<unknown>,
  concurrency: number,
): Promise<{ base: number; subj: number; ratio: number }> {
  await opsPerSec(baseline, OPS, concurrency);
  await opsPerSec(subject, OPS, concurrency);
  const b: number[] = [];
  const s: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let x: number;
    let y: number;
    if (r % 2) {
      y = await opsPerSec(subject, OPS, concurrency);
      x = await opsPerSec(baseline, OPS, concurrency);
    } else {
      x = await opsPerSec(baseline, OPS, concurrency);
      y = await opsPerSec(subject, OPS, concurrency);
    }
    b.push(x);
    s.push(y);
    ratios.push(y / x);
  }
  return { base: median(b), subj: median(s), ratio: median(ratios) };
}

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Runs every case and returns the figures (used by the bench runner; printed when run directly). */
export async function run(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
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
  try {
    const redis = ctx.get(RedisService);
    const client = redis.getClient() as Redis & { benchRelease(key: string, value: string): Promise<number> };
    client.defineCommand('benchRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    const locks = ctx.get(LockService);
    const unfenced = new LockService(redis, { fencing: false, retryDelayMs: 5, jitterMs: 5 });
    await unfenced.onModuleInit();
    const raw = new Redlock([client], { retryCount: 0 });
    const keyOf = (i: number) => `${prefix}lock:{u:${i}}`;

    const rawOp = async (i: number) => {
      const l = await raw.acquire([keyOf(i)], 10_000);
      await l.release();
    };
    const ours = (svc: LockService) => async (i: number) => {
      const h = await svc.acquire(`u:${i}`, { ttlMs: 10_000, waitMs: 0 });
      await h.release();
    };
    const bare = async (i: number) => {
      const value = randomBytes(16).toString('hex');
      if ((await client.set(keyOf(i), value, 'PX', 10_000, 'NX')) !== 'OK') throw new Error('busy');
      await client.benchRelease(keyOf(i), value);
    };

    for (const concurrency of [1, CONCURRENCY]) {
      const fenced = await compare(rawOp, ours(locks), concurrency);
      lines.push({
        name: `uncontended acquire+release, ${concurrency} in flight: LockService (fenced) / raw redlock`,
        value: fenced.ratio,
        unit: 'ratio',
        target: '>= 0.9',
        pass: fenced.ratio >= 0.9,
      });
      lines.push({ name: '  raw @sesamecare-oss/redlock', value: fenced.base, unit: 'locks/s' });
      lines.push({ name: '  LockService (fencing on)', value: fenced.subj, unit: 'locks/s' });
      const plain = await compare(rawOp, ours(unfenced), concurrency);
      lines.push({
        name: `uncontended acquire+release, ${concurrency} in flight: LockService (fencing off) / raw redlock`,
        value: plain.ratio,
        unit: 'ratio',
        target: '>= 0.9',
        pass: plain.ratio >= 0.9,
      });
      lines.push({ name: '  LockService (fencing off)', value: plain.subj, unit: 'locks/s' });
      const ceiling = await compare(bare, ours(locks), concurrency);
      lines.push({
        name: `uncontended, ${concurrency} in flight: LockService (fenced) / bare SET NX PX + Lua release`,
        value: ceiling.ratio,
        unit: 'ratio',
      });
      lines.push({ name: '  bare SET NX PX + Lua release (ceiling)', value: ceiling.base, unit: 'locks/s' });
    }

    // Acquire latency, uncontended, sequential.
    const uncontended: number[] = [];
    for (let i = 0; i < OPS; i++) {
      const t0 = process.hrtime.bigint();
      const h = await locks.acquire(`lat:${i}`, { ttlMs: 10_000, waitMs: 0 });
      uncontended.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await h.release();
    }
    lines.push({ name: 'acquire latency, uncontended: p50', value: percentile(uncontended, 50), unit: 'ms' });
    lines.push({ name: 'acquire latency, uncontended: p99', value: percentile(uncontended, 99), unit: 'ms' });

    // Contended: 50 workers on one key, each critical section a non-atomic GET/SET increment.
    const counterKey = `${prefix}bench:counter`;
    await client.del(counterKey);
    const waits: number[] = [];
    let done = 0;
    const deadline = Date.now() + CONTENDED_MS;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONTENDED_WORKERS }, async () => {
        while (Date.now() < deadline) {
          const a = process.hrtime.bigint();
          const h = await locks.acquire('hot', { ttlMs: 5_000, waitMs: 60_000, retryDelayMs: 5, jitterMs: 5 });
          waits.push(Number(process.hrtime.bigint() - a) / 1e6);
          const v = Number((await client.get(counterKey)) ?? 0);
          await client.set(counterKey, String(v + 1));
          await h.release();
          done++;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const counted = Number(await client.get(counterKey));
    lines.push({
      name: `contended: ${CONTENDED_WORKERS} workers on one key (count exact: ${counted === done})`,
      value: done / seconds,
      unit: 'locks/s',
      pass: counted === done,
    });
    lines.push({ name: 'acquire latency, contended: p50', value: percentile(waits, 50), unit: 'ms' });
    lines.push({ name: 'acquire latency, contended: p99', value: percentile(waits, 99), unit: 'ms' });
  } finally {
    await ctx.close();
    await server.stop();
  }
  return lines;
}

function print(lines: BenchLine[]): void {
  for (const l of lines) {
    const v =
      l.unit === 'ratio' ? l.value.toFixed(2) : l.unit === 'ms' ? l.value.toFixed(2) : Math.round(l.value).toString();
    const verdict = l.pass === undefined ? '' : l.pass ? '  PASS' : '  FAIL';
    console.log(`${l.name.padEnd(96)} ${v.padStart(9)} ${l.unit.padEnd(8)} ${l.target ?? ''}${verdict}`);
  }
}

if (require.main === module) {
  run()
    .then((lines) => {
      print(lines);
      process.exit(lines.some((l) => l.pass === false) ? 1 : 0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
