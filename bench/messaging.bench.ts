/**
 * Benchmark `messaging`, in one run against one redis-server started here:
 *  - pub/sub: EventBus.publish → @OnMessage handler, messages/s, vs raw ioredis PUBLISH → SUBSCRIBE handler
 *    (both JSON-encode and parse the same payload; ours adds the envelope: id, timestamp, trace id);
 *  - streams: StreamProducer.add → @StreamConsumer handler → XACK, messages/s, vs a raw XADD / XREADGROUP
 *    (COUNT 200, BLOCK) / XACK loop with the same batching (acks of a batch sent in one XACK, not awaited
 *    before the next read);
 *  - the same raw loops sending the library's envelope instead of the bare payload ("same envelope"), which
 *    separates the cost of carrying id/time/trace id from the cost of the library's machinery;
 *  - end-to-end latency p50/p99 of both (one message at a time: send, wait until handled);
 *  - on a second redis-server with one replica: StreamProducer.add with `durability: 'replicated'` (XADD + WAIT
 *    1 replica) against the default durability on the same pair, same round ("replicated vs default").
 * With BENCH_PIPELINE=1 the app has a global pass-through interceptor, so every handler runs through Nest's
 * pipeline (MessagePipeline); without it nothing applies and handlers are called directly.
 * Raw clients get the same ioredis options as RedisModule's (RESP2, 2 s command timeout...).
 * Producer and consumer run in this process (2-core machine: redis-server takes the other core).
 * Each round measures raw then ours back to back; the ratio is the median of the per-round ratios (robust to
 * load from other processes), rates and latencies are medians over the rounds. CPU µs/msg is this process only.
 *
 *   npm run bench -- messaging        (env: BENCH_MESSAGES=20000, BENCH_ROUNDS=7, BENCH_LATENCY_SAMPLES=2000,
 *                                      BENCH_PIPELINE=1)
 *   or: node -r ./scripts/swc-register.cjs bench/messaging.bench.ts
 */
import 'reflect-metadata';
import {
  Injectable,
  Module,
  type CallHandler,
  type ExecutionContext,
  type INestApplicationContext,
  type NestInterceptor,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { buildRedisOptions } from '../src/redis/redis.connections';
import { RedisModule } from '../src/redis';
import {
  EventBus,
  MessagingModule,
  OnMessage,
  StreamConsumer,
  StreamProducer,
  createEnvelope,
  encodeEnvelope,
} from '../src/messaging';
import { startRedis, uniquePrefix, type RedisServer } from '../test/support/redis-harness';
import { median, writeReport, type BenchRow } from './support/bench-runner';
import { sleep } from '../src/core/deadline';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 2_000);
const WINDOW = 1_000; // sends in flight at once
const COUNT = 200; // XREADGROUP COUNT, both variants
const PIPELINE = process.env.BENCH_PIPELINE === '1';

const payload = (i: number) => ({ orderId: i, sku: 'SKU-12345', qty: 3, sentAt: performance.now() });

/** Where handlers report; reset per measurement. */
const sink = {
  received: 0,
  target: Infinity,
  done: () => undefined as void,
  lastLatencyMs: 0,
  onOne: undefined as (() => void) | undefined,
};

function resetSink(target: number): Promise<void> {
  sink.received = 0;
  sink.target = target;
  return new Promise((resolve) => {
    sink.done = () => resolve();
  });
}

function hit(sentAt: number): void {
  sink.received++;
  sink.lastLatencyMs = performance.now() - sentAt;
  sink.onOne?.();
  if (sink.received === sink.target) sink.done();
}

@Injectable()
class BenchHandlers {
  @OnMessage('bench.event')
  onEvent(p: { sentAt: number }): void {
    hit(p.sentAt);
  }

  @StreamConsumer({ stream: 'bench', group: 'bench', batchSize: COUNT, concurrency: 1, blockMs: 1_000 })
  onStream(p: { sentAt: number }): void {
    hit(p.sentAt);
  }
}

/** With BENCH_PIPELINE=1: a global interceptor that does nothing, so that handlers run through Nest's pipeline. */
@Injectable()
class PassThroughInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

const pipelineProviders: Provider[] = PIPELINE ? [{ provide: APP_INTERCEPTOR, useClass: PassThroughInterceptor }] : [];

async function ourApp(server: RedisServer): Promise<INestApplicationContext> {
  @Module({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix: uniquePrefix('bench') }),
      MessagingModule.forRoot({ streamMaxLen: 100_000 }),
    ],
    providers: [BenchHandlers, ...pipelineProviders],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  return app;
}

async function inWindows(n: number, send: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < n; start += WINDOW) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(n, start + WINDOW); i++) batch.push(send(i));
    await Promise.all(batch);
  }
}

/** Messages/s (wall clock) and this process's CPU time per message in µs (producer + consumer side). */
async function throughput(n: number, send: (i: number) => Promise<unknown>): Promise<{ rate: number; cpuUs: number }> {
  const finished = resetSink(n);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await inWindows(n, send);
  await finished;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / n };
}

async function latencies(
  samples: number,
  send: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const one = new Promise<void>((resolve) => {
      sink.onOne = resolve;
    });
    const t0 = performance.now();
    await send(i);
    await one;
    out.push(performance.now() - t0);
  }
  sink.onOne = undefined;
  out.sort((a, b) => a - b);
  return { p50: out[Math.floor(out.length * 0.5)], p99: out[Math.floor(out.length * 0.99)] };
}

/** Raw message text: the bare payload, or (for the "same bytes" baseline) the same envelope the library sends. */
function encode(i: number, enveloped: boolean): string {
  return enveloped ? encodeEnvelope(createEnvelope('bench', payload(i))) : JSON.stringify(payload(i));
}

function sentAtOf(text: string, enveloped: boolean): number {
  const value = JSON.parse(text) as { sentAt: number } & { payload: { sentAt: number } };
  return enveloped ? value.payload.sentAt : value.sentAt;
}

/**
 * A raw ioredis client with the same connection options RedisModule gives its clients (RESP2, command
 * timeout, retries), so that the ratio measures the library's own cost, not a difference in client settings.
 */
function rawClient(server: RedisServer, blocking = false): Redis {
  const client = new Redis(server.url, {
    ...buildRedisOptions({}),
    lazyConnect: false,
    ...(blocking ? { commandTimeout: undefined } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** Raw pub/sub: one publisher, one subscriber connection; handler parses JSON. */
async function rawPubSub(server: RedisServer, enveloped = false): Promise<Row> {
  const pub = rawClient(server);
  const sub = rawClient(server);
  const channel = `${uniquePrefix('rawps')}ch`;
  sub.on('message', (_c: string, text: string) => hit(sentAtOf(text, enveloped)));
  await sub.subscribe(channel);
  const send = (i: number) => pub.publish(channel, encode(i, enveloped));
  const { rate, cpuUs } = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  pub.disconnect();
  sub.disconnect();
  return { rate, cpuUs, ...lat };
}

async function ourPubSub(server: RedisServer): Promise<Row> {
  const app = await ourApp(server);
  const bus = app.get(EventBus);
  const send = (i: number) => bus.publish('bench.event', payload(i));
  const { rate, cpuUs } = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  await app.close();
  return { rate, cpuUs, ...lat };
}

/** Raw streams: XADD (MAXLEN ~) pipelined by the window, a XREADGROUP COUNT/BLOCK loop, one XACK per batch. */
async function rawStreams(server: RedisServer, enveloped = false): Promise<Row> {
  const producer = rawClient(server);
  const reader = rawClient(server, true);
  const acker = rawClient(server);
  const key = `${uniquePrefix('rawst')}{bench}`;
  await producer.xgroup('CREATE', key, 'g', '0', 'MKSTREAM');
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = (await reader.call(
        'XREADGROUP',
        'GROUP',
        'g',
        'c',
        'COUNT',
        String(COUNT),
        'BLOCK',
        '200',
        'STREAMS',
        key,
        '>',
      )) as Array<[string, Array<[string, string[]]>]> | null;
      if (!reply) continue;
      const ids: string[] = [];
      for (const [id, fields] of reply[0][1]) {
        hit(sentAtOf(fields[1], enveloped));
        ids.push(id);
      }
      void acker.xack(key, 'g', ...ids);
    }
  })();
  const send = (i: number) => producer.call('XADD', key, 'MAXLEN', '~', '100000', '*', 'data', encode(i, enveloped));
  const { rate, cpuUs } = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  running = false;
  await loop;
  const pending = Number(((await acker.call('XPENDING', key, 'g')) as unknown[])[0]);
  if (pending !== 0) throw new Error(`raw loop left ${pending} pending`);
  for (const c of [producer, reader, acker]) c.disconnect();
  return { rate, cpuUs, ...lat };
}

/** `durability: 'replicated'` of the producer: XADD + WAIT for one replica (at most 1 s). */
const REPLICATED = { durability: { durability: 'replicated' as const, replicas: 1, timeoutMs: 1_000 } };

async function ourStreams(server: RedisServer, replicated = false): Promise<Row> {
  const app = await ourApp(server);
  const producer = app.get(StreamProducer);
  const send = (i: number) => producer.add('bench', payload(i), replicated ? REPLICATED : {});
  const { rate, cpuUs } = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  await app.close(); // graceful: acks flushed
  const info = await producer.info('bench').catch(() => undefined);
  if (info && info.groups[0]?.pending !== 0) throw new Error(`left ${info.groups[0]?.pending} pending`);
  return { rate, cpuUs, ...lat };
}

interface Row {
  /** Messages/s, wall clock. */
  rate: number;
  /** CPU time of this process per message, µs. */
  cpuUs: number;
  /** End-to-end latency percentiles, ms. */
  p50: number;
  p99: number;
}

function summarize(rows: Row[]): Row {
  return {
    rate: median(rows.map((r) => r.rate)),
    cpuUs: median(rows.map((r) => r.cpuUs)),
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
  };
}

/** Median of the per-round ratios ours/raw (each round measures both back to back: robust to load drift). */
function pairedRatio(ours: Row[], raw: Row[]): number {
  return median(ours.map((r, i) => r.rate / raw[i].rate));
}

/** Runs the benchmark and prints a table plus one JSON line; exit code 1 when a target is missed. */
export async function main(): Promise<void> {
  const server = await startRedis();
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', primary.host, String(primary.port)] });
  try {
    const probe = replica.client();
    while (!/master_link_status:up/.test(await probe.info('replication'))) await sleep(50);
    probe.disconnect();
    const results: Record<string, Row[]> = {
      rawPubSub: [],
      envPubSub: [],
      ourPubSub: [],
      rawStreams: [],
      envStreams: [],
      ourStreams: [],
      defaultOnPair: [],
      replicatedOnPair: [],
    };
    // Warm-up (JIT, connections), not recorded.
    const warm = Number(process.env.BENCH_WARMUP ?? 1);
    for (let i = 0; i < warm; i++) {
      await rawPubSub(server);
      await ourPubSub(server);
      await rawStreams(server);
      await ourStreams(server);
    }
    const only = process.env.BENCH_ONLY; // `pubsub` or `streams` to run one half
    for (let round = 0; round < ROUNDS; round++) {
      if (only !== 'streams') {
        results.rawPubSub.push(await rawPubSub(server));
        results.envPubSub.push(await rawPubSub(server, true));
        results.ourPubSub.push(await ourPubSub(server));
      }
      if (only !== 'pubsub') {
        results.rawStreams.push(await rawStreams(server));
        results.envStreams.push(await rawStreams(server, true));
        results.ourStreams.push(await ourStreams(server));
        results.defaultOnPair.push(await ourStreams(primary));
        results.replicatedOnPair.push(await ourStreams(primary, true));
      }
    }
    const s = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)])) as Record<string, Row>;
    const pubsubRatio = pairedRatio(results.ourPubSub, results.rawPubSub);
    const streamRatio = pairedRatio(results.ourStreams, results.rawStreams);
    const pubsubSameBytes = pairedRatio(results.ourPubSub, results.envPubSub);
    const streamSameBytes = pairedRatio(results.ourStreams, results.envStreams);
    const replicatedRatio = pairedRatio(results.replicatedOnPair, results.defaultOnPair);
    const fmt = (r: Row) =>
      `${Math.round(r.rate).toLocaleString('en-US').padStart(9)} msg/s   ${r.cpuUs.toFixed(1).padStart(5)} µs CPU/msg   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;
    console.log(
      `messaging benchmark: ${MESSAGES} messages per measurement, ${ROUNDS} rounds (median), latency ${LATENCY_SAMPLES} samples` +
        (PIPELINE ? ", handlers through Nest's pipeline (global pass-through interceptor)" : ''),
    );
    console.log(`  pub/sub raw ioredis       ${fmt(s.rawPubSub)}`);
    console.log(`  pub/sub raw, same envelope ${fmt(s.envPubSub)}`);
    console.log(
      `  pub/sub EventBus          ${fmt(s.ourPubSub)}   ratio ${pubsubRatio.toFixed(2)} vs bare (target >= 0.8), ${pubsubSameBytes.toFixed(2)} vs same envelope`,
    );
    console.log(`  streams raw XADD/XREADGROUP/XACK ${fmt(s.rawStreams)}`);
    console.log(`  streams raw, same envelope ${fmt(s.envStreams)}`);
    console.log(
      `  streams StreamProducer/@StreamConsumer ${fmt(s.ourStreams)}   ratio ${streamRatio.toFixed(2)} vs bare (target >= 0.8, >= 20000 msg/s), ${streamSameBytes.toFixed(2)} vs same envelope`,
    );
    console.log(`  streams, master + 1 replica, default durability ${fmt(s.defaultOnPair)}`);
    console.log(
      `  streams, durability 'replicated' (XADD + WAIT 1) ${fmt(s.replicatedOnPair)}   ratio ${replicatedRatio.toFixed(2)} vs default (info)`,
    );
    console.log(
      JSON.stringify({
        bench: 'messaging',
        pipeline: PIPELINE,
        messages: MESSAGES,
        rounds: ROUNDS,
        ...s,
        pubsubRatio,
        streamRatio,
        pubsubSameBytes,
        streamSameBytes,
        replicatedRatio,
      }),
    );
    const ok = !(pubsubRatio < 0.8) && !(streamRatio < 0.8) && !(s.ourStreams.rate < 20_000);
    const row = (name: string, r: Row | undefined, base?: Row, ratio?: number, target?: number): BenchRow => ({
      case: name,
      opsPerSec: Math.round(r?.rate ?? 0),
      p50Ms: r ? Number(r.p50.toFixed(3)) : null,
      p99Ms: r ? Number(r.p99.toFixed(3)) : null,
      baselineOpsPerSec: base ? Math.round(base.rate) : null,
      ratio: ratio === undefined || Number.isNaN(ratio) ? null : Number(ratio.toFixed(3)),
      ...(target === undefined ? {} : { target, pass: !(ratio !== undefined && ratio < target) }),
    });
    const file = writeReport({
      name: 'messaging',
      durationMs: 0,
      concurrency: WINDOW,
      cases: [
        row('pub/sub EventBus vs raw publish/subscribe', s.ourPubSub, s.rawPubSub, pubsubRatio, 0.8),
        row('pub/sub EventBus vs raw with the same envelope (info)', s.ourPubSub, s.envPubSub, pubsubSameBytes),
        row('streams add→handle→ack vs raw XADD/XREADGROUP/XACK', s.ourStreams, s.rawStreams, streamRatio, 0.8),
        row('streams vs raw with the same envelope (info)', s.ourStreams, s.envStreams, streamSameBytes),
        row(
          "streams durability 'replicated' (XADD + WAIT 1) vs default, master + replica (info)",
          s.replicatedOnPair,
          s.defaultOnPair,
          replicatedRatio,
        ),
      ],
    });
    console.log(`saved ${file}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await Promise.all([server.stop(), replica.stop(), primary.stop()]);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
