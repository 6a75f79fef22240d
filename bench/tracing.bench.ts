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
 * (likewise). With 10 % sampling, the `getOrSet` under a parent and the two round trips also run under a parent span
 * that is not sampled (an upstream service's decision: every span is non-recording, the messages carry the
 * decision). Each row also prints the CPU the spans add per operation (on − off), so a ratio below the target shows
 * what one span costs next to what it wraps; with an SDK, the rows where the library makes spans also run a third
 * side, "bare SDK": tracing off plus the same number of the SDK's own `startSpan` / `end` (same names, kinds,
 * attributes, parents and links, ended at the same points, no context entered, no header written: the consumer span's
 * parent is handed over in memory), which splits the added CPU into the SDK's and the library's.
 * The gate is operations per second of this process's CPU (user + system: the client-side cost of the spans, which
 * other tenants of a shared machine do not distort); the wall-clock ratio is printed next to it. The "no SDK" rows
 * run first, then the SDK is registered (and replaced by the sampling one) for the rest of the process. 50 callers. Prints the load average.
 *
 * Last, in one process without Redis, one message's spans (`tracePublish` + `traceProcess`) against the SDK's own
 * producer and consumer spans: the library's share without the network's batching in the way (see
 * `messageSpansInProcess`).
 *
 *   env: BENCH_OPS (operations per round and side, default 20 000), BENCH_ROUNDS (rounds per side, default 9),
 *        BENCH_ONLY (only the rows whose name contains it, e.g. `10 %` or `pub/sub`)
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  context,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
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
import { suppressTracing, tracePublish, traceProcess } from '../src/core/tracing';
import { createEnvelope } from '../src/messaging/message-envelope';
import {
  EventBus,
  MessagingModule,
  OnMessage,
  StreamConsumer,
  StreamProducer,
  type MessageEnvelope,
  type StreamMessage,
} from '../src/messaging';
import { RedisModule } from '../src/redis';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { median, printLines, writeReport, type BenchLine, type BenchRow } from './support/bench-runner';
import { USER_VALUE } from './support/bench-values';

/** The SDK tracer the "bare SDK" side starts its own spans with (undefined: that side is not running). */
let bareTracer: Tracer | undefined;
/** On the "bare SDK" side, the context of each message's producer span, for its consumer span (by message id). */
const bareParents = new Map<number, Context>();

/** Resolves the caller waiting for message `id` when its handler runs. */
@Injectable()
class Waiters {
  readonly pending = new Map<number, () => void>();

  /** A promise resolved when the handler of message `id` runs. */
  wait(id: number): Promise<void> {
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  /**
   * Resolves message `id`'s caller; on the "bare SDK" side, inside a consumer span like the library's: a child of the
   * producer's span, linked to it.
   */
  done(id: number, attributes: Attributes | undefined): void {
    let span: Span | undefined;
    if (bareTracer) {
      const parent = bareParents.get(id) ?? ROOT_CONTEXT;
      bareParents.delete(id);
      const producer = trace.getSpanContext(parent);
      const links = producer ? [{ context: producer }] : undefined;
      span = bareTracer.startSpan('process bench.tracing', { kind: SpanKind.CONSUMER, attributes, links }, parent);
    }
    this.pending.get(id)?.();
    this.pending.delete(id);
    span?.end();
  }
}

@Injectable()
class Handlers {
  constructor(private readonly waiters: Waiters) {}

  @StreamConsumer({ stream: 'bench.tracing', group: 'bench', blockMs: 1_000 })
  onStream(message: { id: number }, meta: StreamMessage): void {
    this.waiters.done(
      message.id,
      bareTracer && {
        ...destination('process', 'bench.tracing'),
        'messaging.consumer.group.name': meta.group,
        'messaging.message.id': meta.envelope.id,
        'nrk.messaging.kind': 'stream',
        'nrk.messaging.stream_id': meta.streamId,
        'nrk.messaging.attempt': meta.attempt,
      },
    );
  }

  @OnMessage('bench.tracing')
  onPubSub(message: { id: number }, envelope: MessageEnvelope): void {
    this.waiters.done(
      message.id,
      bareTracer && {
        ...destination('process', 'bench.tracing'),
        'messaging.message.id': envelope.id,
        'nrk.messaging.kind': 'pubsub',
      },
    );
  }
}

/** The messaging attributes every span of a destination has. */
function destination(operation: 'publish' | 'process', name: string): Attributes {
  return {
    'messaging.system': 'redis',
    'messaging.operation': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.destination.name': name,
  };
}

/** An exporter that drops every span: the SDK's own cost only. */
const dropAll: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const ONLY = process.env.BENCH_ONLY;
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

/** One side of a comparison, after its rounds: medians, and the medians of its per-round ratios to the first side. */
interface Side {
  wall: number;
  cpu: number;
  cpuRatio: number;
  wallRatio: number;
}

/**
 * `sides[0]` (off) and the others in rotating order round by round (off, on, bare; on, bare, off; ...); per side, the
 * median speeds and the medians of the per-round ratios to the off side of the same round.
 */
async function compare(sides: Op[]): Promise<Side[]> {
  for (const op of sides) await speed(op, OPS / 4); // warm-up
  const runs: Speed[][] = sides.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (r + k) % sides.length;
      runs[i].push(await speed(sides[i], OPS));
    }
  }
  const med = (xs: Speed[], k: keyof Speed) => median(xs.map((x) => x[k]));
  return runs.map((xs) => ({
    wall: med(xs, 'wall'),
    cpu: med(xs, 'cpu'),
    cpuRatio: median(xs.map((x, i) => x.cpu / runs[0][i].cpu)),
    wallRatio: median(xs.map((x, i) => x.wall / runs[0][i].wall)),
  }));
}

/** Loops of the in-process comparison (per round and side). */
const LOOPS = 100_000;

/** CPU ns per call of `fn`, `LOOPS` calls in `ctx`. */
function cpuPerCall(fn: () => void, ctx: Context): number {
  const c0 = process.cpuUsage();
  context.with(ctx, () => {
    for (let i = 0; i < LOOPS; i++) fn();
  });
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / LOOPS;
}

/**
 * In one process, no Redis: one message's spans (`tracePublish` around building its envelope, then `traceProcess`
 * around a handler that returns at once) against the same envelope with tracing suppressed, and against the SDK's own
 * producer and consumer spans (same names, kinds, attributes, parent and link). The medians of `ROUNDS` rounds, in
 * CPU ns per message: what the library adds on top of the SDK without the network's batching in the way.
 */
function messageSpansInProcess(tracer: Tracer, parent: Context): { off: number; library: number; bare: number } {
  const handlerAttributes = (id: string) => ({
    'messaging.consumer.group.name': 'bench',
    'messaging.message.id': id,
    'nrk.messaging.kind': 'stream',
  });
  const off = () => {
    suppressTracing(true);
    createEnvelope('bench.tracing', 1);
  };
  const library = () => {
    suppressTracing(false);
    const envelope = tracePublish('bench.tracing', 'stream', undefined, (headers) =>
      createEnvelope('bench.tracing', 1, headers),
    );
    traceProcess(
      'bench.tracing',
      envelope.headers,
      () => handlerAttributes(envelope.id),
      () => 1,
    );
  };
  const bare = () => {
    suppressTracing(true);
    const span = tracer.startSpan('publish bench.tracing', {
      kind: SpanKind.PRODUCER,
      attributes: { ...destination('publish', 'bench.tracing'), 'nrk.messaging.kind': 'stream' },
    });
    const envelope = createEnvelope('bench.tracing', 1);
    span.setAttribute('messaging.message.id', envelope.id);
    span.end();
    const consumer = tracer.startSpan(
      'process bench.tracing',
      {
        kind: SpanKind.CONSUMER,
        attributes: { ...destination('process', 'bench.tracing'), ...handlerAttributes(envelope.id) },
        links: [{ context: span.spanContext() }],
      },
      trace.setSpan(ROOT_CONTEXT, span),
    );
    consumer.end();
  };
  const runs: Record<'off' | 'library' | 'bare', number[]> = { off: [], library: [], bare: [] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.off.push(cpuPerCall(off, parent));
    runs.library.push(cpuPerCall(library, parent));
    runs.bare.push(cpuPerCall(bare, parent));
  }
  suppressTracing(false);
  return { off: median(runs.off), library: median(runs.library), bare: median(runs.bare) };
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

/** A parent span (an HTTP request's, say) from another service, sampled or not there. */
const remoteParent = (sampled: boolean) =>
  trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    }),
  );

/** One row: what runs on each side, and whether it gets the "bare SDK" side. */
interface Case {
  name: string;
  op: Op;
  /** With an SDK, also run `op` with tracing off plus the SDK's own spans, as many as the library makes. */
  bare?: boolean;
}

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
    // Each op also starts, on the "bare SDK" side only, the SDK spans the library would make for it.
    const getOrSet: Op = () => {
      const span = bareTracer?.startSpan('cache getOrSet', { attributes: { 'nrk.cache.key': 'user:1' } });
      const got = cache.getOrSet('user:1', () => USER_VALUE, { ttlMs: 3_600_000 });
      if (!span) return got;
      return got.then((value) => {
        span.setAttribute('nrk.cache.outcome', 'hit');
        span.end();
        return value;
      });
    };
    const sampledParent = remoteParent(true);
    const unsampledParent = remoteParent(false);
    const under =
      (parent: Context, op: Op): Op =>
      () =>
        context.with(parent, op);
    const publishAttributes = (kind: string): Attributes => ({
      ...destination('publish', 'bench.tracing'),
      'nrk.messaging.kind': kind,
      'messaging.message.id': '00000000-0000-4000-8000-000000000000',
    });
    /** One message's round trip: `send` it, resolve when its handler ran. */
    const roundTrip =
      (kind: 'stream' | 'pubsub', send: (id: number) => Promise<unknown>): Op =>
      () => {
        const id = ++next;
        const handled = waiters.wait(id);
        const span = bareTracer?.startSpan('publish bench.tracing', {
          kind: SpanKind.PRODUCER,
          attributes: publishAttributes(kind),
        });
        if (span) bareParents.set(id, trace.setSpan(ROOT_CONTEXT, span));
        return send(id).then(() => {
          span?.end();
          return handled;
        });
      };
    const stream = roundTrip('stream', (id) => producer.add('bench.tracing', { id }));
    const pubsub = roundTrip('pubsub', (id) => bus.publish('bench.tracing', { id }));
    const sides = (c: Case, sdkOn: boolean): Op[] => {
      const off: Op = () => {
        suppressTracing(true);
        bareTracer = undefined;
        return c.op();
      };
      const on: Op = () => {
        suppressTracing(false);
        bareTracer = undefined;
        return c.op();
      };
      if (!sdkOn || !c.bare) return [off, on];
      const tracer = (sdk as BasicTracerProvider).getTracer('bench');
      const bareSide: Op = () => {
        suppressTracing(true);
        bareTracer = tracer;
        return c.op();
      };
      return [off, on, bareSide];
    };
    const base: Case[] = [
      { name: 'getOrSet hit, no parent span', op: getOrSet },
      { name: 'getOrSet hit, under a sampled parent span', op: under(sampledParent, getOrSet), bare: true },
      { name: 'stream add → consume', op: stream, bare: true },
      { name: 'pub/sub publish → handle', op: pubsub, bare: true },
    ];
    const unsampled: Case[] = [
      { name: 'getOrSet hit, under a parent span not sampled', op: under(unsampledParent, getOrSet), bare: true },
      { name: 'stream add → consume, under a parent span not sampled', op: under(unsampledParent, stream), bare: true },
      {
        name: 'pub/sub publish → handle, under a parent span not sampled',
        op: under(unsampledParent, pubsub),
        bare: true,
      },
    ];
    const modes = [
      { mode: 'no SDK', target: 0.98, sampled: undefined, cases: base },
      { mode: 'SDK (every span sampled, no-op exporter)', target: 0.9, sampled: 1, cases: base },
      {
        mode: 'SDK (10 % sampled, no-op exporter)',
        target: 0.9,
        sampled: 0.1,
        // Under a sampled parent every span is sampled, as in the row above: the parent not sampled instead.
        cases: [base[0], unsampled[0], base[2], base[3], unsampled[1], unsampled[2]],
      },
    ];
    /** Replaces the registered SDK by one sampling `ratio` of the traces (parent-based), with a fresh context manager. */
    const registerSdk = async (ratio: number): Promise<BasicTracerProvider> => {
      await sdk?.shutdown();
      trace.disable();
      context.disable();
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
      const registered = new BasicTracerProvider({ sampler, spanProcessors: [new BatchSpanProcessor(dropAll)] });
      trace.setGlobalTracerProvider(registered);
      sdk = registered;
      return registered;
    };
    const lines: BenchLine[] = [];
    const rows: BenchRow[] = [];
    for (const { mode, target, sampled, cases } of modes) {
      const wanted = cases.filter((c) => !ONLY || `${c.name}, ${mode}`.includes(ONLY));
      if (wanted.length === 0) continue;
      if (sampled !== undefined) await registerSdk(sampled);
      for (const c of wanted) {
        const [off, on, bare] = await compare(sides(c, sampled !== undefined));
        const label = `${c.name}, ${mode} vs off`;
        const offNs = 1e9 / off.cpu;
        const onNs = 1e9 / on.cpu;
        lines.push(
          { name: `${label}: ops/s on / off (wall)`, value: on.wall, unit: 'ops/s', target: `${Math.round(off.wall)}` },
          {
            name: `${label}: ratio, CPU`,
            value: on.cpuRatio,
            unit: 'ratio',
            target: `>= ${target}`,
            pass: on.cpuRatio >= target,
          },
          { name: `${label}: ratio, wall clock`, value: on.wallRatio, unit: 'ratio' },
          { name: `${label}: CPU per operation, on (off)`, value: onNs, unit: 'ns', target: `(${Math.round(offNs)})` },
          { name: `${label}: CPU added per operation (on − off)`, value: onNs - offNs, unit: 'ns' },
        );
        if (bare) {
          const bareNs = 1e9 / bare.cpu;
          lines.push(
            { name: `${label}: bare SDK spans, ratio, CPU`, value: bare.cpuRatio, unit: 'ratio' },
            { name: `${label}: CPU the SDK's own spans add (bare − off)`, value: bareNs - offNs, unit: 'ns' },
            { name: `${label}: CPU the library adds on top (on − bare)`, value: onNs - bareNs, unit: 'ns' },
          );
        }
        rows.push({
          case: label,
          opsPerSec: Math.round(on.wall),
          p50Ms: null,
          p99Ms: null,
          baselineOpsPerSec: Math.round(off.wall),
          ratio: Math.round(on.cpuRatio * 100) / 100,
          target,
          pass: on.cpuRatio >= target,
        });
      }
    }
    for (const [mode, sampled, parent] of [
      ['every span sampled', 1, ROOT_CONTEXT],
      ['10 % sampled', 0.1, ROOT_CONTEXT],
      ['10 % sampled, under a parent span not sampled', 0.1, unsampledParent],
    ] as const) {
      const label = `one message's spans in process (no Redis), SDK (${mode})`;
      if (ONLY && !label.includes(ONLY)) continue;
      const r = messageSpansInProcess((await registerSdk(sampled)).getTracer('bench'), parent);
      lines.push(
        { name: `${label}: CPU per message, tracing off`, value: r.off, unit: 'ns' },
        { name: `${label}: CPU the SDK's own spans add`, value: r.bare - r.off, unit: 'ns' },
        { name: `${label}: CPU the library's tracing adds`, value: r.library - r.off, unit: 'ns' },
        { name: `${label}: of which on top of the SDK's spans`, value: r.library - r.bare, unit: 'ns' },
      );
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
