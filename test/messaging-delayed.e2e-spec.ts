import { Inject, Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { RedisUnavailableError } from '../src/redis';
import { MessagingStats, StreamConsumer, StreamProducer, type StreamMessage } from '../src/messaging';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { Recorder, createMessagingApp, eventually } from './messaging/messaging-test.helpers';

interface Seen {
  id: string;
  dueAt?: number;
  at: number;
  attempt: number;
  group?: string;
}

const seen = (message: StreamMessage, group?: string): Seen => ({
  id: message.envelope.id,
  dueAt: message.dueAt?.getTime(),
  at: Date.now(),
  attempt: message.attempt,
  group,
});

@Injectable()
class ReminderConsumer {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({ stream: 'reminders', group: 'workers', blockMs: 200, batchSize: 100, concurrency: 16 })
  handle(_payload: unknown, message: StreamMessage): void {
    this.rec.push(seen(message));
  }
}

interface Task {
  n: number;
  poison?: boolean;
}

@Injectable()
class TaskConsumer {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({ stream: 'tasks', group: 'workers', blockMs: 200, backoffMs: 1_000, maxAttempts: 4 })
  handle(payload: Task, message: StreamMessage<Task>): void {
    this.rec.push({ ...seen(message, 'workers'), n: payload.n });
    if (payload.poison) throw new Error(`poison ${payload.n}`);
  }

  @StreamConsumer({ stream: 'tasks', group: 'audit', blockMs: 200 })
  audit(payload: Task, message: StreamMessage<Task>): void {
    this.rec.push({ ...seen(message, 'audit'), n: payload.n });
  }
}

const options = { consumerDefaults: { blockMs: 200 }, delayedPollMs: 100 };
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

// Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
describe(`Messaging: delayed messages (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('1,000 messages with random delays from two producers: each handled once, none before it is due', async () => {
    const keyPrefix = uniquePrefix('delayed');
    const apps = await Promise.all(
      [0, 1].map(() => createMessagingApp({ ...redis.connection, keyPrefix }, options, [ReminderConsumer])),
    );
    try {
      const added = new Map<string, number>();
      await Promise.all(
        Array.from({ length: 1_000 }, async (_, i) => {
          const delayMs = Math.floor(Math.random() * 2_001);
          const sent = await apps[i % 2].get(StreamProducer).add('reminders', { i }, { delayMs });
          added.set(sent.envelope.id, sent.dueAt?.getTime() ?? 0);
          if (delayMs > 0) expect(sent.streamId).toBe('');
        }),
      );
      const items = () => apps.flatMap((a) => a.get(Recorder).items as Seen[]);
      await eventually(() => items().length >= 1_000, 20_000, '1,000 messages');
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would show up by now
      const all = items();
      expect(all).toHaveLength(1_000);
      expect(new Set(all.map((s) => s.id)).size).toBe(1_000);
      const lateness: number[] = [];
      for (const s of all) {
        expect(added.has(s.id)).toBe(true);
        if (s.dueAt === undefined) continue; // added at once (delay 0)
        expect(s.dueAt).toBe(added.get(s.id));
        expect(s.at).toBeGreaterThanOrEqual(s.dueAt); // never before it is due
        lateness.push(s.at - s.dueAt);
      }
      lateness.sort((a, b) => a - b);
      console.log(
        `delayed messages (${testTopology()}): ${lateness.length} delayed, lateness p50 ${quantile(lateness, 0.5)} ms, ` +
          `p99 ${quantile(lateness, 0.99)} ms, max ${lateness[lateness.length - 1]} ms (loaded machine: indicative)`,
      );
      const stats = apps.map((a) => a.get(MessagingStats).snapshot());
      const movedLateMs = (stats[0].delayedLatenessMs + stats[1].delayedLatenessMs) / lateness.length;
      const movedMaxMs = Math.max(stats[0].delayedLatenessMaxMs, stats[1].delayedLatenessMaxMs);
      console.log(`  of which moving (Redis clock): mean ${movedLateMs.toFixed(1)} ms, max ${movedMaxMs} ms`);
      expect(stats[0].delayed + stats[1].delayed).toBe(lateness.length);
      expect(stats[0].delayedMoved + stats[1].delayedMoved).toBe(lateness.length); // each moved once, by either
      expect(await apps[0].get(StreamProducer).delayedCount('reminders')).toBe(0);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 60_000);

  it('cancels a message before it is due; not after', async () => {
    const keyPrefix = uniquePrefix('cancel');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, options, [ReminderConsumer]);
    try {
      const producer = app.get(StreamProducer);
      const rec = app.get(Recorder);
      const kept = await producer.add('reminders', { kept: true }, { delayMs: 300 });
      const dropped = await producer.add('reminders', { kept: false }, { at: new Date(Date.now() + 300) });
      expect(await producer.delayedCount('reminders')).toBe(2);
      expect(await producer.cancel('reminders', dropped.envelope.id)).toBe(true);
      expect(await producer.cancel('reminders', dropped.envelope.id)).toBe(false);
      await rec.until(() => rec.items.length === 1, 5_000, 'the kept message');
      await new Promise((r) => setTimeout(r, 600));
      expect((rec.items as Seen[]).map((s) => s.id)).toEqual([kept.envelope.id]);
      expect(await producer.cancel('reminders', kept.envelope.id)).toBe(false); // moved already
      expect(app.get(MessagingStats).snapshot()).toMatchObject({ delayed: 2, delayedCancelled: 1, delayedMoved: 1 });
      await expect(producer.add('reminders', {}, { delayMs: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(producer.add('reminders', {}, { delayMs: 1, at: new Date() })).rejects.toBeInstanceOf(RangeError);
      await expect(producer.add('reminders', {}, { at: new Date(Number.NaN) })).rejects.toBeInstanceOf(RangeError);
    } finally {
      await app.close();
    }
  });

  it('retries through the delay (1 s, 2 s, 4 s): the consumer handles other messages meanwhile; DLQ after the last', async () => {
    const keyPrefix = uniquePrefix('retry');
    const app = await createMessagingApp({ ...redis.connection, keyPrefix }, options, [TaskConsumer]);
    try {
      const producer = app.get(StreamProducer);
      const rec = app.get(Recorder);
      const items = () => rec.items as Array<Seen & { n: number }>;
      const poison = await producer.add('tasks', { n: 0, poison: true });
      // The consumer (concurrency 1) is free while the poison message waits: every other one is handled meanwhile.
      for (let n = 1; n <= 6; n++) {
        await new Promise((r) => setTimeout(r, 500));
        await producer.add('tasks', { n });
      }
      await eventually(async () => (await producer.deadLetters('tasks')).length === 1, 15_000, 'the dead letter');
      const attempts = items().filter((s) => s.n === 0 && s.group === 'workers');
      expect(attempts.map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < attempts.length; i++) {
        expect(attempts[i].at - attempts[i - 1].at).toBeGreaterThanOrEqual(1_000 * 2 ** (i - 1) - 5); // not earlier
        expect(attempts[i].at).toBeGreaterThanOrEqual(attempts[i].dueAt!);
      }
      const others = items().filter((s) => s.n > 0 && s.group === 'workers');
      expect(others.map((s) => s.n).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(others.every((s) => s.at < attempts[3].at)).toBe(true); // not queued behind the poison message
      // The other group saw the message once: the retries belong to the group that failed.
      expect(items().filter((s) => s.n === 0 && s.group === 'audit')).toHaveLength(1);
      const [dead] = await producer.deadLetters('tasks');
      expect(dead).toMatchObject({ sourceId: poison.streamId, attempts: 4, group: 'workers', error: 'poison 0' });
      expect(app.get(MessagingStats).snapshot()).toMatchObject({ failed: 4, retried: 3, deadLettered: 1 });
    } finally {
      await app.close();
    }
  }, 30_000);

  it('delayed messages survive a process restart and a Redis restart with persistence; an empty Redis loses them', async () => {
    const own = await startTestRedis();
    const keyPrefix = uniquePrefix('survive');
    const connect = { ...own.connection, keyPrefix, commandTimeoutMs: 500 };
    let app: TestingModule | undefined = await createMessagingApp(connect, { ...options, disableConsumers: true });
    try {
      const producer = app.get(StreamProducer);
      const first = await producer.add('reminders', { n: 1 }, { delayMs: 1_500 });
      const lost = await producer.add('reminders', { n: 2 }, { delayMs: 60_000 });
      await app.close(); // the producer is gone; its messages wait in Redis
      app = undefined;
      await own.restart({ keepData: true });
      app = await createMessagingApp(connect, options, [ReminderConsumer]);
      const rec = app.get(Recorder);
      await rec.until(() => rec.items.length === 1, 10_000, 'the message scheduled before the restarts');
      expect((rec.items[0] as Seen).id).toBe(first.envelope.id);

      await own.kill(); // down: adding rejects, the mover logs once and keeps polling
      await expect(app.get(StreamProducer).add('reminders', {}, { delayMs: 100 })).rejects.toBeInstanceOf(
        RedisUnavailableError,
      );
      await expect(app.get(StreamProducer).cancel('reminders', lost.envelope.id)).rejects.toBeInstanceOf(
        RedisUnavailableError,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      await own.start(); // empty: what was scheduled is gone (documented); new delays work again
      let again: string | undefined;
      await eventually(
        async () => {
          again ??= await app!
            .get(StreamProducer)
            .add('reminders', { n: 3 }, { delayMs: 200 })
            .then((r) => r.envelope.id)
            .catch(() => undefined);
          return rec.items.some((s) => (s as Seen).id === again);
        },
        20_000,
        'a delayed message after the outage',
      );
      expect((rec.items as Seen[]).map((s) => s.id)).not.toContain(lost.envelope.id);
    } finally {
      await app?.close();
      await own.stop();
    }
  }, 60_000);
});
