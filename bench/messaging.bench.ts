/**
 * Benchmark `messaging`, in one run against one redis-server started here:
 *  - pub/sub: EventBus.publish → @OnMessage handler, messages/s, vs raw ioredis PUBLISH → SUBSCRIBE handler
 *    (both JSON-encode and parse the same payload; ours adds the envelope: id, timestamp, trace id);
 *  - streams: StreamProducer.add → @StreamConsumer handler → XACK, messages/s, vs a raw XADD / XREADGROUP
 *    (COUNT 200, BLOCK) / XACK loop with the same batching (acks of a batch sent in one XACK, not awaited
 *    before the next read);
 *  - end-to-end latency p50/p99 of both (one message at a time: send, wait until handled).
 * Raw clients get the same ioredis options as RedisModule's (RESP2, 2 s command timeout...).
 * Producer and consumer run in this process (2-core machine: redis-server takes the other core).
 * Rounds alternate raw / ours; the figure per variant is the median of the rounds.
 *
 *   npm run bench -- messaging        (env: BENCH_MESSAGES=50000, BENCH_ROUNDS=3, BENCH_LATENCY_SAMPLES=2000)
 *   or: node -r ./test/messaging/swc-register.cjs bench/messaging.bench.ts
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { buildRedisOptions } from '../src/redis/redis.connections';
import { RedisModule } from '../src/redis';
import { EventBus, MessagingModule, OnMessage, StreamConsumer, StreamProducer } from '../src/messaging';
import { startRedis, uniquePrefix, type RedisServer } from '../test/support/redis-harness';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 2_000);
const WINDOW = 1_000; // sends in flight at once
const COUNT = 200; // XREADGROUP COUNT, both variants

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

async function ourApp(server: RedisServer): Promise<INestApplicationContext> {
  @Module({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix: uniquePrefix('bench') }),
      MessagingModule.forRoot({ streamMaxLen: 100_000 }),
    ],
    providers: [BenchHandlers],
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

async function throughput(n: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const finished = resetSink(n);
  const t0 = performance.now();
  await inWindows(n, send);
  await finished;
  return n / ((performance.now() - t0) / 1000);
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
async function rawPubSub(server: RedisServer): Promise<{ rate: number; p50: number; p99: number }> {
  const pub = rawClient(server);
  const sub = rawClient(server);
  const channel = `${uniquePrefix('rawps')}ch`;
  sub.on('message', (_c: string, text: string) => hit((JSON.parse(text) as { sentAt: number }).sentAt));
  await sub.subscribe(channel);
  const send = (i: number) => pub.publish(channel, JSON.stringify(payload(i)));
  const rate = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  pub.disconnect();
  sub.disconnect();
  return { rate, ...lat };
}

async function ourPubSub(server: RedisServer): Promise<{ rate: number; p50: number; p99: number }> {
  const app = await ourApp(server);
  const bus = app.get(EventBus);
  const send = (i: number) => bus.publish('bench.event', payload(i));
  const rate = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  await app.close();
  return { rate, ...lat };
}

/** Raw streams: XADD (MAXLEN ~) pipelined by the window, a XREADGROUP COUNT/BLOCK loop, one XACK per batch. */
async function rawStreams(server: RedisServer): Promise<{ rate: number; p50: number; p99: number }> {
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
        hit((JSON.parse(fields[1]) as { sentAt: number }).sentAt);
        ids.push(id);
      }
      void acker.xack(key, 'g', ...ids);
    }
  })();
  const send = (i: number) =>
    producer.call('XADD', key, 'MAXLEN', '~', '100000', '*', 'data', JSON.stringify(payload(i)));
  const rate = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  running = false;
  await loop;
  const pending = Number(((await acker.call('XPENDING', key, 'g')) as unknown[])[0]);
  if (pending !== 0) throw new Error(`raw loop left ${pending} pending`);
  for (const c of [producer, reader, acker]) c.disconnect();
  return { rate, ...lat };
}

async function ourStreams(server: RedisServer): Promise<{ rate: number; p50: number; p99: number }> {
  const app = await ourApp(server);
  const producer = app.get(StreamProducer);
  const send = (i: number) => producer.add('bench', payload(i));
  const rate = await throughput(MESSAGES, send);
  const lat = await latencies(LATENCY_SAMPLES, send);
  await app.close(); // graceful: acks flushed
  const info = await producer.info('bench').catch(() => undefined);
  if (info && info.groups[0]?.pending !== 0) throw new Error(`left ${info.groups[0]?.pending} pending`);
  return { rate, ...lat };
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

interface Row {
  rate: number;
  p50: number;
  p99: number;
}

function summarize(rows: Row[]): Row {
  return {
    rate: median(rows.map((r) => r.rate)),
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
  };
}

/** Runs the benchmark and prints a table plus one JSON line; exit code 1 when a target is missed. */
export async function main(): Promise<void> {
  const server = await startRedis();
  try {
    const results: Record<string, Row[]> = { rawPubSub: [], ourPubSub: [], rawStreams: [], ourStreams: [] };
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
        results.ourPubSub.push(await ourPubSub(server));
      }
      if (only !== 'pubsub') {
        results.rawStreams.push(await rawStreams(server));
        results.ourStreams.push(await ourStreams(server));
      }
    }
    const s = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)])) as Record<string, Row>;
    const pubsubRatio = s.ourPubSub.rate / s.rawPubSub.rate;
    const streamRatio = s.ourStreams.rate / s.rawStreams.rate;
    const fmt = (r: Row) =>
      `${Math.round(r.rate).toLocaleString('en-US').padStart(9)} msg/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;
    console.log(
      `messaging benchmark: ${MESSAGES} messages per measurement, ${ROUNDS} rounds (median), latency ${LATENCY_SAMPLES} samples`,
    );
    console.log(`  pub/sub raw ioredis       ${fmt(s.rawPubSub)}`);
    console.log(`  pub/sub EventBus          ${fmt(s.ourPubSub)}   ratio ${pubsubRatio.toFixed(2)} (target >= 0.8)`);
    console.log(`  streams raw XADD/XREADGROUP/XACK ${fmt(s.rawStreams)}`);
    console.log(
      `  streams StreamProducer/@StreamConsumer ${fmt(s.ourStreams)}   ratio ${streamRatio.toFixed(2)} (target >= 0.8, >= 20000 msg/s)`,
    );
    console.log(
      JSON.stringify({ bench: 'messaging', messages: MESSAGES, rounds: ROUNDS, ...s, pubsubRatio, streamRatio }),
    );
    const ok = !(pubsubRatio < 0.8) && !(streamRatio < 0.8) && !(s.ourStreams.rate < 20_000);
    if (!ok) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
