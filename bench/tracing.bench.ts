/**
 * Benchmark `tracing` (`npm run bench -- tracing`; standalone: `node -r ./scripts/swc-register.cjs bench/tracing.bench.ts`).
 *
 * What the library's OpenTelemetry spans cost on the hot paths, against tracing off (the library's tracing
 * suppressed: no span, one flag read) in the same run, on one redis-server, in alternating rounds (off, on, on,
 * off...; the median of the per-round ratios is kept):
 *  1. no SDK registered (`@opentelemetry/api` installed, no tracer provider) vs off            (target >= 0.98)
 *  2. an SDK registered (BasicTracerProvider, every span sampled, BatchSpanProcessor, an exporter that drops
 *     everything) vs off                                                                          (target >= 0.9)
 *  3. the same SDK sampling 10 % of the traces (parent-based, trace id ratio 0.1) vs off             (target >= 0.9)
 * each on: `CacheService.getOrSet` hit outside any span (no span by default: `requireParentSpan`) and under a sampled
 * parent span (one `cache getOrSet` span per call with the SDK); `StreamProducer.add` → `@StreamConsumer` handler
 * (one round trip per call: a producer and a consumer span with the SDK); `EventBus.publish` → `@OnMessage` handler
 * (likewise). Each row also prints the CPU the spans add per operation (on − off), so a ratio below the target
 * shows what one span costs next to what it wraps.
 * The gate is operations per second of this process's CPU (user + system: the client-side cost of the spans, which
 * other tenants of a shared machine do not distort); the wall-clock ratio is printed next to it. The "no SDK" rows
 * run first, then the SDK is registered (and replaced by the sampling one) for the rest of the process. 50 callers. Prints the load average.
 *
 *   env: BENCH_OPS (operations per round and side, default 20 000), BENCH_ROUNDS (rounds per side, default 9)
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { loadavg } from 'node:os';
import { CacheService, RedisCacheModule } from '../src/cache';
import { suppressTracing } from '../src/core/tracing';
import { EventBus, MessagingModule, OnMessage, StreamConsumer, StreamProducer } from '../src/messaging';
import { RedisModule } from '../src/redis';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { median, printLines, writeReport, type BenchLine, type BenchRow } from './support/bench-runner';
import { USER_VALUE } from './support/bench-values';

/** Resolves the caller waiting for message `id` when its handler runs. */
@Injectable()
class Waiters {
  readonly pending = new Map<number, () => void>();

  /** A promise resolved when the handler of message `id` runs. */
  wait(id: number): Promise<void> {
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  done(id: number): void {
    this.pending.get(id)?.();
    this.pending.delete(id);
  }
}

@Injectable()
class Handlers {
  constructor(private readonly waiters: Waiters) {}

  @StreamConsumer({ stream: 'bench.tracing', group: 'bench', blockMs: 1_000 })
  onStream(message: { id: number }): void {
    this.waiters.done(message.id);
  }

  @OnMessage('bench.tracing')
  onPubSub(message: { id: number }): void {
    this.waiters.done(message.id);
  }
}

/** An exporter that drops every span: the SDK's own cost only. */
const dropAll: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CONCURRENCY = 50;

/** One operation: a call that resolves when done. */
type Op = () => Promise<unknown>;

/** Throughput of one stretch: per wall-clock second and per second of this process's CPU. */
interface Speed {
  wall: number;
  cpu: number;
}

/** Runs `ops` calls of `op` with {@link CONCURRENCY} in flight. */
async function speed(op: Op, ops: number): Promise<Speed> {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < ops) await op();
    }),
  );
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { wall: ops / (ns / 1e9), cpu: ops / ((c.user + c.system) / 1e6) };
}

/** Off and on in alternating rounds; medians of the per-round on/off ratios (CPU and wall clock). */
async function compare(off: Op, on: Op): Promise<{ off: Speed; on: Speed; cpuRatio: number; wallRatio: number }> {
  await speed(off, OPS / 4); // warm-up
  await speed(on, OPS / 4);
  const offs: Speed[] = [];
  const ons: Speed[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      offs.push(await speed(off, OPS));
      ons.push(await speed(on, OPS));
    } else {
      ons.push(await speed(on, OPS));
      offs.push(await speed(off, OPS));
    }
  }
  const med = (xs: Speed[], k: keyof Speed) => median(xs.map((x) => x[k]));
  return {
    off: { wall: med(offs, 'wall'), cpu: med(offs, 'cpu') },
    on: { wall: med(ons, 'wall'), cpu: med(ons, 'cpu') },
    cpuRatio: median(ons.map((x, i) => x.cpu / offs[i].cpu)),
    wallRatio: median(ons.map((x, i) => x.wall / offs[i].wall)),
  };
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

async function main(): Promise<number> {
  console.log(`load average before: ${load()}`);
  const server = await startRedis();
  @Module({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix: uniquePrefix('bench') }),
      RedisCacheModule.forRoot({}),
      MessagingModule.forRoot({ streamMaxLen: 100_000 }),
    ],
    providers: [Waiters, Handlers],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  let sdk: BasicTracerProvider | undefined;
  try {
    await app.init();
    const cache = app.get(CacheService);
    const producer = app.get(StreamProducer);
    const bus = app.get(EventBus);
    const waiters = app.get(Waiters);
    await cache.set('user:1', USER_VALUE, { ttlMs: 3_600_000 });

    let next = 0;
    const getOrSet: Op = () => cache.getOrSet('user:1', () => USER_VALUE, { ttlMs: 3_600_000 });
    // A sampled parent span (an HTTP request's, say), active around each call on both sides.
    const parent = trace.setSpan(
      ROOT_CONTEXT,
      trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }),
    );
    const getOrSetUnderParent: Op = () => context.with(parent, getOrSet);
    const stream: Op = () => {
      const id = ++next;
      const handled = waiters.wait(id);
      return producer.add('bench.tracing', { id }).then(() => handled);
    };
    const pubsub: Op = () => {
      const id = ++next;
      const handled = waiters.wait(id);
      return bus.publish('bench.tracing', { id }).then(() => handled);
    };
    const off =
      (op: Op): Op =>
      () => {
        suppressTracing(true);
        return op();
      };
    const on =
      (op: Op): Op =>
      () => {
        suppressTracing(false);
        return op();
      };
    const cases: Array<[string, Op]> = [
      ['getOrSet hit, no parent span', getOrSet],
      ['getOrSet hit, under a sampled parent span', getOrSetUnderParent],
      ['stream add → consume', stream],
      ['pub/sub publish → handle', pubsub],
    ];
    const lines: BenchLine[] = [];
    const rows: BenchRow[] = [];
    for (const [mode, target, sampled] of [
      ['no SDK', 0.98, undefined],
      ['SDK (every span sampled, no-op exporter)', 0.9, 1],
      ['SDK (10 % sampled, no-op exporter)', 0.9, 0.1],
    ] as const) {
      if (sampled !== undefined) {
        await sdk?.shutdown();
        trace.disable();
        context.disable();
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
        const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampled) });
        sdk = new BasicTracerProvider({ sampler, spanProcessors: [new BatchSpanProcessor(dropAll)] });
        trace.setGlobalTracerProvider(sdk);
      }
      for (const [name, op] of cases) {
        const r = await compare(off(op), on(op));
        const label = `${name}, ${mode} vs off`;
        lines.push(
          {
            name: `${label}: ops/s on / off (wall)`,
            value: r.on.wall,
            unit: 'ops/s',
            target: `${Math.round(r.off.wall)}`,
          },
          {
            name: `${label}: ratio, CPU`,
            value: r.cpuRatio,
            unit: 'ratio',
            target: `>= ${target}`,
            pass: r.cpuRatio >= target,
          },
          { name: `${label}: ratio, wall clock`, value: r.wallRatio, unit: 'ratio' },
          {
            name: `${label}: CPU per operation, on (off)`,
            value: 1e9 / r.on.cpu,
            unit: 'ns',
            target: `(${Math.round(1e9 / r.off.cpu)})`,
          },
          { name: `${label}: CPU added per operation (on − off)`, value: 1e9 / r.on.cpu - 1e9 / r.off.cpu, unit: 'ns' },
        );
        rows.push({
          case: label,
          opsPerSec: Math.round(r.on.wall),
          p50Ms: null,
          p99Ms: null,
          baselineOpsPerSec: Math.round(r.off.wall),
          ratio: Math.round(r.cpuRatio * 100) / 100,
          target,
          pass: r.cpuRatio >= target,
        });
      }
    }
    console.log(`\nbench tracing (${CONCURRENCY} callers, ${OPS} operations per round and side, ${ROUNDS} rounds)`);
    printLines(lines);
    console.log(`load average after: ${load()}`);
    console.log(`\nwrote ${writeReport({ name: 'tracing', durationMs: 0, concurrency: CONCURRENCY, cases: rows })}`);
    return rows.every((r) => r.pass) ? 0 : 1;
  } finally {
    await sdk?.shutdown();
    await app.close();
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
