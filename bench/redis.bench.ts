/**
 * Benchmark `redis` (`npm run bench -- redis`): GET/SET through the shared provider (the client
 * RedisService hands out in a Nest application context) against a raw ioredis client on the same
 * redis-server, 50 concurrent callers, unpipelined and pipelined (10 commands per call). Target: ratio
 * >= 0.97, i.e. the provider adds nothing measurable. `redis-benchmark -c 50` on the same server is
 * reported as the ceiling (a C client with 50 connections; ours share one connection).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisModule, RedisService } from '../src';
import { buildRedisOptions } from '../src/redis/redis.connections';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { runBench, type BenchExtra } from './support/bench-runner';

const run = promisify(execFile);
const VALUE = 'x'.repeat(100);
const TARGET = 0.97;

/** `redis-benchmark -q` lines: `GET: 123456.78 requests per second, p50=0.199 msec`. */
async function redisBenchmark(port: number, pipeline: number): Promise<BenchExtra[]> {
  const n = String(pipeline > 1 ? 1_000_000 : 200_000);
  const { stdout } = await run('redis-benchmark', [
    ...['-h', '127.0.0.1', '-p', String(port), '-c', '50', '-n', n, '-d', '100', '-P', String(pipeline)],
    ...['-t', 'get,set', '-q'],
  ]);
  const rows: BenchExtra[] = [];
  for (const m of stdout.matchAll(/(GET|SET): ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/g)) {
    const label = pipeline > 1 ? `${m[1]} pipelined x${pipeline}` : m[1];
    rows.push({
      case: `ceiling: redis-benchmark ${label}`,
      opsPerSec: Number(m[2]),
      p50Ms: m[3] ? Number(m[3]) : null,
    });
  }
  return rows;
}

void runBench(
  'redis',
  async () => {
    const server = await startRedis();
    const prefix = uniquePrefix('bench');
    @Module({ imports: [RedisModule.forRoot({ url: server.url, keyPrefix: prefix })] })
    class BenchModule {}
    const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    const shared = app.get(RedisService).getClient();
    // The baseline: a plain ioredis client with the same connection options the provider gives its client
    // (RESP2, commandTimeout 2 s...), so the ratio isolates the provider. `rawDefaults` (ioredis' own defaults)
    // shows, without a target, what those options cost.
    const raw = new Redis(server.url, { ...buildRedisOptions({ url: server.url }), lazyConnect: false });
    const rawDefaults = new Redis(server.url);
    const key = `${prefix}k`;
    await raw.set(key, VALUE);
    const keys = Array.from({ length: 10 }, (_, i) => `${prefix}k${i}`);
    const get = (c: typeof shared) => () => c.get(key);
    const set = (c: typeof shared) => () => c.set(key, VALUE);
    const pipeGet = (c: typeof shared) => () => {
      const p = c.pipeline();
      for (const k of keys) p.get(k);
      return p.exec();
    };
    const pipeSet = (c: typeof shared) => () => {
      const p = c.pipeline();
      for (const k of keys) p.set(k, VALUE);
      return p.exec();
    };
    return {
      pairs: [
        { case: 'GET via RedisService client', baseline: get(raw), subject: get(shared), target: TARGET },
        { case: 'SET via RedisService client', baseline: set(raw), subject: set(shared), target: TARGET },
        {
          case: 'GET pipelined x10 via RedisService client',
          baseline: pipeGet(raw),
          subject: pipeGet(shared),
          opsPerCall: 10,
          target: TARGET,
        },
        {
          case: 'SET pipelined x10 via RedisService client',
          baseline: pipeSet(raw),
          subject: pipeSet(shared),
          opsPerCall: 10,
          target: TARGET,
        },
        { case: 'GET, provider options vs ioredis defaults (info)', baseline: get(rawDefaults), subject: get(shared) },
      ],
      extras: async () => [...(await redisBenchmark(server.port, 1)), ...(await redisBenchmark(server.port, 10))],
      teardown: async () => {
        raw.disconnect();
        rawDefaults.disconnect();
        await app.close();
        await server.stop();
      },
    };
  },
  // 75 short slices of ~130 ms per side (10 s): load bursts from other processes hit both sides alike, and the
  // median of 75 per-round ratios moves by about ±0.01 between runs (with 25 slices of 200 ms, ±0.03: a plain
  // client against a plain client then "missed" 0.97 now and then)
  { rounds: 75, durationMs: Number(process.env.BENCH_DURATION_MS ?? 10_000) },
);
