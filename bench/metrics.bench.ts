/**
 * Benchmark `metrics` (standalone: `node -r ./scripts/swc-register.cjs bench/metrics.bench.ts`).
 *
 * What MetricsModule's command timing costs: on one private redis-server, in one run, GET throughput
 * (8 concurrent callers) of a plain ioredis client vs a client wrapped by `instrumentClient` feeding the
 * CommandLatencyAggregator exactly as MetricsService does. Short paired rounds alternate
 * baseline and subject; the median of the per-round ratios is kept (target >= 0.9).
 */
import { Redis } from 'ioredis';
import { AsyncLocalStorage } from 'node:async_hooks';
import { CommandLatencyAggregator, DEFAULT_COMMAND_BUCKETS_SECONDS, instrumentClient } from '../src';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { median, printLines, type BenchLine } from './support/bench-runner';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 7 : 15;
const OPS = QUICK ? 2_000 : 5_000;
const CONCURRENCY = 8;

async function opsPerSec(op: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < OPS) await op();
    }),
  );
  return OPS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Runs the comparison and returns its figures. */
export async function run(): Promise<BenchLine[]> {
  const server = await startRedis();
  const raw = new Redis(server.url, { protocol: 2 });
  const timed = new Redis(server.url, { protocol: 2 });
  try {
    // Exactly what MetricsService does per command: the wrapper, the scrape check, the aggregator.
    const latency = new CommandLatencyAggregator(
      'bench_duration_seconds',
      'bench_errors_total',
      DEFAULT_COMMAND_BUCKETS_SECONDS,
    );
    const scraping = new AsyncLocalStorage<boolean>();
    instrumentClient(
      timed,
      (command, seconds, failed) => latency.record('default', command.toLowerCase(), seconds, failed),
      () => scraping.getStore() === true,
    );
    const key = `${uniquePrefix('bench-metrics')}k`;
    await raw.set(key, 'x'.repeat(100));
    const base = () => raw.get(key);
    const subject = () => timed.get(key);
    await opsPerSec(base);
    await opsPerSec(subject);
    const b: number[] = [];
    const s: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const first = r % 2 === 0;
      const x = first ? await opsPerSec(base) : 0;
      const y = await opsPerSec(subject);
      const z = first ? x : await opsPerSec(base);
      b.push(z);
      s.push(y);
      ratios.push(y / z);
    }
    const ratio = median(ratios);
    return [
      { name: 'GET, plain ioredis client (baseline)', value: median(b), unit: 'ops/s' },
      { name: 'GET, client timed by MetricsModule (command latency aggregator)', value: median(s), unit: 'ops/s' },
      {
        name: 'timed / plain (median of paired rounds)',
        value: ratio,
        unit: 'ratio',
        target: '>= 0.9',
        pass: ratio >= 0.9,
      },
    ];
  } finally {
    raw.disconnect();
    timed.disconnect();
    await server.stop();
  }
}

if (require.main === module) {
  run()
    .then((lines) => {
      printLines(lines);
      process.exit(lines.some((l) => l.pass === false) ? 1 : 0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
