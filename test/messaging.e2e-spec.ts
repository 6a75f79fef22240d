import { Inject, Injectable, Logger } from '@nestjs/common';
import { RedisUnavailableError } from '../src/redis';
import {
  EventBus,
  IdempotencyGuard,
  MessagingStats,
  OnMessage,
  StreamConsumer,
  StreamProducer,
  type MessageEnvelope,
  type StreamMessage,
} from '../src/messaging';
import { onCluster, startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { OrderDto, Recorder, createMessagingApp, eventually } from './messaging/messaging-test.helpers';

@Injectable()
class PubSubHandlers {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @OnMessage('order.confirmed')
  confirmed(payload: unknown, envelope: MessageEnvelope): void {
    this.rec.push({ h: 'confirmed', payload, envelope });
  }

  @OnMessage('order.*', { pattern: true })
  anyOrder(payload: unknown, envelope: MessageEnvelope): void {
    this.rec.push({ h: 'pattern', type: envelope.type, payload });
  }

  @OnMessage('order.confirmed')
  throws(): void {
    throw new Error('boom');
  }

  @OnMessage('check.validated', { dto: OrderDto })
  validated(payload: OrderDto): void {
    this.rec.push({ h: 'validated', isDto: payload instanceof OrderDto, payload });
  }
}

@Injectable()
class StuckConsumer {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({ stream: 'stuck', group: 'workers', blockMs: 200 })
  handle(): Promise<void> {
    this.rec.push('started');
    return new Promise(() => undefined); // never settles
  }
}

interface Job {
  n: number;
  poison?: boolean;
  slowMs?: number;
}

@Injectable()
class JobConsumer {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({
    stream: 'jobs',
    group: 'workers',
    maxAttempts: 3,
    backoffMs: 10,
    blockMs: 200,
    claimIdleMs: 1_000,
    batchSize: 10,
    concurrency: 4,
  })
  async handle(payload: Job, message: StreamMessage<Job>): Promise<void> {
    if (payload.slowMs) await new Promise((r) => setTimeout(r, payload.slowMs));
    if (payload.poison) {
      this.rec.push({ failed: payload.n, attempt: message.attempt });
      throw new Error(`poison ${payload.n}`);
    }
    this.rec.push(payload.n);
  }
}

const options = { consumerDefaults: { blockMs: 200 } };
/**
 * Pub/sub tests subscribe to patterns (`order.*`). On a cluster that needs classic pub/sub: the default, sharded
 * pub/sub, has no patterns (refused at startup; sharded pub/sub is tested in messaging-cluster.e2e-spec.ts).
 */
const pubSubOptions = onCluster ? { ...options, clusterPubSub: 'classic' as const } : options;

// Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
describe(`Messaging: pub/sub event bus (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('broadcasts to every instance, with an envelope, on a prefixed channel', async () => {
    const keyPrefix = uniquePrefix('bus');
    const [a, b] = await Promise.all([
      createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions, [PubSubHandlers]),
      createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions, [PubSubHandlers]),
    ]);
    const raw = redis.client();
    const rawSeen: string[] = [];
    await raw.psubscribe(`${keyPrefix}msg:*`);
    raw.on('pmessage', (_p: string, channel: string) => rawSeen.push(channel));
    try {
      const sent = await a.get(EventBus).publish('order.confirmed', { orderId: 7 }, { headers: { source: 'test' } });
      expect(sent).toMatchObject({ type: 'order.confirmed', payload: { orderId: 7 }, headers: { source: 'test' } });
      expect(sent.headers.traceId).toBe(sent.id); // a message without a trace id starts a trace
      for (const app of [a, b]) {
        const rec = app.get(Recorder);
        await rec.until(
          () => rec.items.filter((i) => (i as { h: string }).h !== 'x').length >= 2,
          5_000,
          'both handlers',
        );
        const confirmed = rec.items.find((i) => (i as { h: string }).h === 'confirmed') as {
          envelope: MessageEnvelope;
        };
        expect(confirmed.envelope).toEqual(sent);
        expect(rec.items).toContainEqual({ h: 'pattern', type: 'order.confirmed', payload: { orderId: 7 } });
      }
      await eventually(() => rawSeen.length > 0, 2_000, 'raw message');
      expect(rawSeen).toEqual([`${keyPrefix}msg:order.confirmed`]);
      // The throwing handler is counted, the others ran.
      await eventually(() => a.get(MessagingStats).snapshot().failed === 1, 2_000, 'failed count');
      expect(a.get(MessagingStats).snapshot()).toMatchObject({ published: 1, handled: 2, failed: 1 });
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('pattern subscriptions get every matching channel, not others', async () => {
    const keyPrefix = uniquePrefix('pat');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions, [PubSubHandlers]);
    try {
      const bus = app.get(EventBus);
      await bus.publish('order.created', { id: 1 });
      await bus.publish('order.shipped', { id: 2 });
      await bus.publish('user.created', { id: 3 });
      const rec = app.get(Recorder);
      await rec.until(() => rec.items.length >= 2, 5_000, 'pattern messages');
      await new Promise((r) => setTimeout(r, 200));
      // Order across channels is not promised: on a cluster the two PUBLISHes may go through different nodes.
      const id = (item: unknown) => (item as { payload: { id: number } }).payload.id;
      const byId = [...rec.items].sort((x, y) => id(x) - id(y));
      expect(byId).toEqual([
        { h: 'pattern', type: 'order.created', payload: { id: 1 } },
        { h: 'pattern', type: 'order.shipped', payload: { id: 2 } },
      ]);
    } finally {
      await app.close();
    }
  });

  it('publishes of one tick, in calls of many messages, keep their order on each channel and resolve each', async () => {
    const keyPrefix = uniquePrefix('burst');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions);
    try {
      const bus = app.get(EventBus);
      const seen: Record<string, number[]> = { 'burst.a': [], 'burst.b': [] };
      await bus.subscribe<number>('burst.*', (n, envelope) => void seen[envelope.type].push(n), { pattern: true });
      // More than one call's worth (200), the two channels interleaved.
      const channelOf = (i: number) => (i % 3 === 0 ? 'burst.b' : 'burst.a');
      const numbers = Array.from({ length: 450 }, (_, i) => i);
      const sent = await Promise.all(numbers.map((i) => bus.publish(channelOf(i), i)));
      expect(sent.map((e) => [e.type, e.payload])).toEqual(numbers.map((i) => [channelOf(i), i]));
      await eventually(() => seen['burst.a'].length + seen['burst.b'].length === 450, 5_000, 'every message');
      for (const channel of ['burst.a', 'burst.b']) {
        // On a Cluster (classic mode) each PUBLISH goes to a node ioredis picks: all arrive, in no promised order.
        const received = onCluster ? [...seen[channel]].sort((x, y) => x - y) : seen[channel];
        expect(received).toEqual(numbers.filter((i) => channelOf(i) === channel));
      }
      expect(app.get(MessagingStats).snapshot()).toMatchObject({ published: 450, received: 450, handled: 450 });
    } finally {
      await app.close();
    }
  });

  it('validates payloads with a DTO: invalid ones are counted, the handler is not called', async () => {
    const keyPrefix = uniquePrefix('dto');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions, [PubSubHandlers]);
    try {
      const bus = app.get(EventBus);
      await bus.publish('check.validated', { sku: 'A', qty: 0 });
      await bus.publish('check.validated', { sku: 'B', qty: 2 });
      const raw = redis.client();
      await raw.publish(`${keyPrefix}msg:check.validated`, 'not json{');
      raw.disconnect();
      const rec = app.get(Recorder);
      const stats = app.get(MessagingStats);
      await eventually(() => stats.snapshot().invalid === 2, 5_000, 'invalid count');
      const validated = rec.items.filter((i) => (i as { h: string }).h === 'validated');
      expect(validated).toEqual([{ h: 'validated', isDto: true, payload: { sku: 'B', qty: 2 } }]);
    } finally {
      await app.close();
    }
  });

  it('observe() gives an Observable that unsubscribes on teardown', async () => {
    const keyPrefix = uniquePrefix('obs');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions);
    try {
      const bus = app.get(EventBus);
      const got: string[] = [];
      const sub = bus.observe('news.*', { pattern: true }).subscribe((e) => got.push(e.type));
      await eventually(async () => (await redis.patternSubscriptions()) >= 1, 2_000, 'psubscribe');
      await bus.publish('news.a', 1);
      await eventually(() => got.length === 1, 2_000, 'observed');
      sub.unsubscribe();
      await eventually(async () => (await redis.patternSubscriptions()) === 0, 2_000, 'punsubscribe');
      expect(got).toEqual(['news.a']);
    } finally {
      await app.close();
    }
  });

  it('subscribe() resolves only once Redis confirmed it, for concurrent callers of one channel too; observe() says so with onSubscribed', async () => {
    const keyPrefix = uniquePrefix('live');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions);
    try {
      const bus = app.get(EventBus);
      // Five handlers subscribe at once (one SUBSCRIBE in Redis); each publishes as soon as its own subscribe
      // resolves. Every handler must get all five: a resolve before the subscription is live would lose some.
      const got: number[][] = Array.from({ length: 5 }, () => []);
      await Promise.all(
        got.map((list, i) =>
          bus.subscribe<number>('live.x', (n) => void list.push(n)).then(() => bus.publish('live.x', i)),
        ),
      );
      await eventually(() => got.every((list) => list.length === 5), 3_000, 'every handler got every message');
      for (const list of got) expect([...list].sort()).toEqual([0, 1, 2, 3, 4]);

      const seen: unknown[] = [];
      const sub = bus
        .observe('live.*', { pattern: true, onSubscribed: () => void bus.publish('live.y', 'first') })
        .subscribe((e) => seen.push(e.payload));
      await eventually(() => seen.includes('first'), 3_000, 'the message published from onSubscribed');
      sub.unsubscribe();
    } finally {
      await app.close();
    }
  });

  it('listen() resolves once subscribed; what arrives before its Observable is subscribed waits for it; the signal ends it', async () => {
    const keyPrefix = uniquePrefix('listen');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions);
    try {
      const bus = app.get(EventBus);
      const abort = new AbortController();
      const events = await bus.listen<string>('feed.*', { pattern: true, signal: abort.signal });
      // A witness on the same pattern shares the registration: once it has a message, listen() got it too.
      const witnessed: unknown[] = [];
      const offWitness = await bus.subscribe('feed.*', (p) => void witnessed.push(p), { pattern: true });
      await bus.publish('feed.a', 'early');
      await eventually(() => witnessed.includes('early'), 3_000, 'witness');
      const got: unknown[] = [];
      const sub = events.subscribe((e) => got.push(e.payload));
      expect(got).toEqual(['early']); // kept until subscribed, handed over at once
      await bus.publish('feed.b', 'live');
      await eventually(() => got.includes('live'), 3_000, 'live message');
      let secondError: unknown;
      events.subscribe({ error: (err: unknown) => (secondError = err) });
      expect(String(secondError)).toMatch(/one subscriber/);

      await offWitness();
      abort.abort(); // as Nest does when the SSE client leaves
      await eventually(async () => (await redis.patternSubscriptions()) === 0, 3_000, 'punsubscribe on abort');
      sub.unsubscribe();

      // An already-aborted signal: subscribed and ended at once, the Observable completes.
      const gone = await bus.listen('feed.*', { pattern: true, signal: AbortSignal.abort() });
      let completed = false;
      gone.subscribe({ complete: () => (completed = true) });
      expect(completed).toBe(true);
      await eventually(async () => (await redis.patternSubscriptions()) === 0, 3_000, 'punsubscribe when aborted');
    } finally {
      await app.close();
    }
  });

  it('a subscribe that failed while Redis was down is made again by the next caller once Redis is back', async () => {
    const own = await startTestRedis();
    const keyPrefix = uniquePrefix('resub');
    const app = await createMessagingApp({ ...own.connection, keyPrefix, commandTimeoutMs: 500 }, pubSubOptions);
    try {
      const bus = app.get(EventBus);
      await bus.publish('warm', 1); // the shared client is connected
      await own.kill();
      const got: unknown[] = [];
      await expect(bus.subscribe('again', (p) => void got.push(p))).rejects.toBeInstanceOf(RedisUnavailableError);
      await own.start();
      await eventually(
        async () =>
          bus
            .subscribe('again', (p) => void got.push(p))
            .then(
              () => true,
              () => false,
            ),
        15_000,
        'subscribe after restart',
      );
      await eventually(
        async () => {
          await bus.publish('again', 'after').catch(() => undefined);
          return got.includes('after');
        },
        5_000,
        'message after the new subscribe',
      );
    } finally {
      await app.close();
      await own.stop();
    }
  });

  it('rejects publish with RedisUnavailableError when Redis is down (no hang, no silent drop)', async () => {
    const own = await startTestRedis();
    const app = await createMessagingApp(
      { ...own.connection, keyPrefix: uniquePrefix('down'), commandTimeoutMs: 500 },
      options,
    );
    try {
      await own.kill();
      const started = Date.now();
      await expect(app.get(EventBus).publish('x', 1)).rejects.toBeInstanceOf(RedisUnavailableError);
      // Several in one tick: one call to Redis, and each publish rejects.
      const burst = await Promise.allSettled([1, 2, 3].map((n) => app.get(EventBus).publish('x', n)));
      expect(burst.map((r) => r.status === 'rejected' && r.reason instanceof RedisUnavailableError)).toEqual([
        true,
        true,
        true,
      ]);
      await expect(app.get(StreamProducer).add('jobs', { n: 1 })).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await app.close();
      await own.stop();
    }
  });
});

describe(`Messaging: durable streams (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('two consumers in one group split the work; each message handled exactly once', async () => {
    const keyPrefix = uniquePrefix('split');
    const [a, b] = await Promise.all([
      createMessagingApp({ ...redis.connection, keyPrefix }, { ...options, consumerName: 'a' }, [JobConsumer]),
      createMessagingApp({ ...redis.connection, keyPrefix }, { ...options, consumerName: 'b' }, [JobConsumer]),
    ]);
    try {
      const producer = a.get(StreamProducer);
      const total = 300;
      await Promise.all(Array.from({ length: total }, (_, n) => producer.add('jobs', { n, slowMs: 2 })));
      const ra = a.get(Recorder);
      const rb = b.get(Recorder);
      await eventually(() => ra.items.length + rb.items.length >= total, 20_000, 'all jobs');
      await new Promise((r) => setTimeout(r, 300));
      const all = [...ra.items, ...rb.items] as number[];
      expect(all).toHaveLength(total);
      expect(new Set(all).size).toBe(total);
      expect(ra.items.length).toBeGreaterThan(0);
      expect(rb.items.length).toBeGreaterThan(0);
      await eventually(async () => (await producer.info('jobs')).groups[0]?.pending === 0, 5_000, 'all acked');
      const info = await producer.info('jobs');
      expect(info.groups).toEqual([
        { name: 'workers', consumers: 2, pending: 0, lastDeliveredId: expect.any(String), lag: 0 },
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('retries a poison message with backoff, then moves it to <stream>:dlq after maxAttempts; invalid JSON goes there at once', async () => {
    const keyPrefix = uniquePrefix('dlq');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, options, [JobConsumer]);
    try {
      const producer = app.get(StreamProducer);
      await producer.add('jobs', { n: 1, poison: true });
      await producer.addRaw('jobs', '{not json');
      await producer.add('jobs', { n: 2 });
      const rec = app.get(Recorder);
      await eventually(async () => (await producer.info('jobs')).deadLetters === 2, 10_000, 'two dead letters');
      expect(rec.items).toContain(2);
      expect(rec.items.filter((i) => typeof i === 'object')).toEqual([
        { failed: 1, attempt: 1 },
        { failed: 1, attempt: 2 },
        { failed: 1, attempt: 3 },
      ]);
      const dead = await producer.deadLetters('jobs');
      expect(dead).toHaveLength(2);
      const poison = dead.find((d) => d.error.includes('poison'));
      expect(poison).toMatchObject({ attempts: 3, group: 'workers', error: 'poison 1' });
      expect(JSON.parse(poison!.data)).toMatchObject({ type: 'jobs', payload: { n: 1, poison: true } });
      const invalid = dead.find((d) => d.data === '{not json');
      expect(invalid?.error).toMatch(/not valid JSON/);
      const info = await producer.info('jobs');
      expect(info.groups[0].pending).toBe(0);
      expect(producer.stats).toMatchObject({ deadLettered: 2, invalid: 1, handled: 1, failed: 3, retried: 2 });
      expect(producer.deadLetterKey('jobs')).toBe(`${keyPrefix}msg:stream:{jobs}:dlq`);
    } finally {
      await app.close();
    }
  });

  it('trims the stream approximately to maxLen', async () => {
    const keyPrefix = uniquePrefix('trim');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, { streamMaxLen: 100 });
    try {
      const producer = app.get(StreamProducer);
      for (let i = 0; i < 1_000; i++) await producer.add('log', { i });
      const len = (await producer.info('log')).length;
      expect(len).toBeGreaterThanOrEqual(100);
      expect(len).toBeLessThan(300);
      for (let i = 0; i < 200; i++) await producer.add('exact', { i }, { maxLen: 0 });
      expect((await producer.info('exact')).length).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('adds issued in one tick: one call per stream (200 entries at most), every id in call order, trimmed once', async () => {
    const keyPrefix = uniquePrefix('tick-adds');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, { streamMaxLen: 100 });
    try {
      const producer = app.get(StreamProducer);
      // 450 to one stream (three calls), 3 to another, 1 alone: all in the same tick.
      const many = Array.from({ length: 450 }, (_, i) => producer.add('tick-many', { i }, { maxLen: 0 }));
      const few = Array.from({ length: 3 }, (_, i) => producer.add('tick-few', { i }));
      const lone = producer.add('tick-lone', { i: 0 });
      const ids = (await Promise.all(many)).map((r) => r.streamId);
      expect(new Set(ids).size).toBe(450);
      const order = (id: string) => id.split('-').map(Number);
      for (let i = 1; i < ids.length; i++) {
        const [ms, seq] = order(ids[i]);
        const [prevMs, prevSeq] = order(ids[i - 1]);
        expect(ms > prevMs || (ms === prevMs && seq > prevSeq)).toBe(true);
      }
      expect((await producer.info('tick-many')).length).toBe(450);
      expect((await Promise.all(few)).every((r) => r.streamId !== '')).toBe(true);
      expect((await lone).streamId).toMatch(/^\d+-\d+$/);
      expect((await producer.info('tick-few')).length).toBe(3);
      // Trimmed (approximately) by the one XTRIM of each call.
      await Promise.all(Array.from({ length: 1_000 }, (_, i) => producer.add('tick-trim', { i })));
      const len = (await producer.info('tick-trim')).length;
      expect(len).toBeGreaterThanOrEqual(100);
      expect(len).toBeLessThan(400);
    } finally {
      await app.close();
    }
  });

  it('graceful shutdown finishes and acks the messages in flight', async () => {
    const keyPrefix = uniquePrefix('shutdown');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, options, [JobConsumer]);
    const producer = app.get(StreamProducer);
    const rec = app.get(Recorder);
    await Promise.all([1, 2, 3].map((n) => producer.add('jobs', { n, slowMs: 500 })));
    await eventually(async () => (await producer.info('jobs')).groups[0]?.pending === 3, 5_000, 'in flight');
    const raw = redis.client();
    await app.close();
    expect(rec.items.sort()).toEqual([1, 2, 3]);
    const groups = (await raw.call('XINFO', 'GROUPS', `${keyPrefix}msg:stream:{jobs}`)) as unknown[][];
    expect(groups[0][groups[0].indexOf('pending') + 1]).toBe(0);
    raw.disconnect();
  });

  it('shutdown does not hang on a handler that never finishes (shutdownTimeoutMs); its message stays pending', async () => {
    const keyPrefix = uniquePrefix('stuck');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, { ...options, shutdownTimeoutMs: 300 }, [
      StuckConsumer,
    ]);
    await app.get(StreamProducer).add('stuck', { n: 1 });
    const rec = app.get(Recorder);
    await rec.until(() => rec.items.length === 1, 5_000, 'handler started');
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    const raw = redis.client({ protocol: 2 });
    const pending = (await raw.call('XPENDING', `${keyPrefix}msg:stream:{stuck}`, 'workers')) as unknown[];
    raw.disconnect();
    expect(Number(pending[0])).toBe(1);
  });

  it('shutdown with Redis down does not wait for a read that cannot finish (no handler in flight)', async () => {
    const own = await startTestRedis();
    const app = await createMessagingApp({ ...own.connection, keyPrefix: uniquePrefix('downstop') }, options, [
      JobConsumer,
    ]);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await app.get(StreamProducer).add('jobs', { n: 1 });
      const rec = app.get(Recorder);
      await rec.until(() => rec.items.includes(1), 5_000, 'first job');
      await own.kill(); // the reader's next XREADGROUP cannot be answered (on a cluster it waits for the nodes)
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await app.close(); // shutdownTimeoutMs: 10 s by default
      expect(Date.now() - started).toBeLessThan(5_000);
      const stuck = warn.mock.calls.filter((c) => String(c[0]).includes('handlers still running'));
      expect(stuck).toEqual([]);
    } finally {
      warn.mockRestore();
      await own.stop();
    }
  });

  it('a consumer logs one line when Redis becomes unreachable and one when it is back, whatever the failed reads between', async () => {
    const own = await startTestRedis();
    const keyPrefix = uniquePrefix('outage');
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');
    const error = jest.spyOn(Logger.prototype, 'error');
    const app = await createMessagingApp({ ...own.connection, keyPrefix, commandTimeoutMs: 500 }, options, [
      JobConsumer,
    ]);
    try {
      const producer = app.get(StreamProducer);
      const rec = app.get(Recorder);
      await producer.add('jobs', { n: 1 });
      await rec.until(() => rec.items.includes(1), 5_000, 'first job');
      await own.kill();
      await new Promise((r) => setTimeout(r, 3_000)); // several failed reads (retry pauses of 200 ms to 1 s)
      await own.start(); // empty: the consumer creates its group again
      await eventually(
        async () => {
          await producer.add('jobs', { n: 2 }, { maxLen: 0 }).catch(() => undefined);
          return rec.items.includes(2);
        },
        15_000,
        'a job after the outage',
      );
      const lines = (spy: jest.SpyInstance, start: string) =>
        spy.mock.calls.map((c) => String(c[0])).filter((line) => line.startsWith(start));
      expect(lines(warn, 'Redis unavailable for stream consumer JobConsumer.handle')).toHaveLength(1);
      expect(lines(log, 'Redis is back for stream consumer JobConsumer.handle')).toHaveLength(1);
      expect(lines(error, 'JobConsumer.handle')).toEqual([]);
    } finally {
      warn.mockRestore();
      log.mockRestore();
      error.mockRestore();
      await app.close();
      await own.stop();
    }
  });

  it('refuses unusable @StreamConsumer options at startup, naming the option (in a process without consumers too)', async () => {
    @Injectable()
    class BadConsumer {
      @StreamConsumer({ stream: 'jobs', group: 'workers', maxAttempts: 0 })
      handle(): void {}
    }
    await expect(
      createMessagingApp({ ...redis.connection, keyPrefix: uniquePrefix('badopts') }, { disableConsumers: true }, [
        BadConsumer,
      ]),
    ).rejects.toMatchObject({ name: 'RedisConfigError', option: '@StreamConsumer(BadConsumer.handle).maxAttempts' });
  });

  it('processOnce runs a function once per id', async () => {
    const keyPrefix = uniquePrefix('idem');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, options);
    try {
      const guard = app.get(IdempotencyGuard);
      let runs = 0;
      expect(await guard.processOnce('m1', 10_000, () => ++runs)).toEqual({ executed: true, result: 1 });
      expect(await guard.processOnce('m1', 10_000, () => ++runs)).toEqual({ executed: false });
      await expect(guard.processOnce('m2', 10_000, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
      expect(await guard.processOnce('m2', 10_000, () => ++runs)).toEqual({ executed: true, result: 2 });
      expect(await guard.isDone('m1')).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe(`Messaging: after a Redis restart (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('subscriptions are restored and consumers recreate their group', async () => {
    const keyPrefix = uniquePrefix('restart');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, pubSubOptions, [
      PubSubHandlers,
      JobConsumer,
    ]);
    try {
      const bus = app.get(EventBus);
      const producer = app.get(StreamProducer);
      const rec = app.get(Recorder);
      await producer.add('jobs', { n: 1 });
      await rec.until(() => rec.items.includes(1), 5_000, 'first job');

      await redis.restart(); // every node of a cluster, empty

      // Pub/sub: ioredis resubscribes once reconnected; publish until one arrives.
      await eventually(
        async () => {
          await bus.publish('order.confirmed', { after: true }).catch(() => undefined);
          return rec.items.some((i) => (i as { h?: string }).h === 'confirmed');
        },
        15_000,
        'pub/sub after restart',
      );
      // Streams: the stream and group are gone; the consumer recreates the group on NOGROUP.
      await eventually(
        async () => {
          await producer.add('jobs', { n: 2 }, { maxLen: 0 }).catch(() => undefined);
          return rec.items.includes(2);
        },
        15_000,
        'stream after restart',
      );
    } finally {
      await app.close();
    }
  });
});
