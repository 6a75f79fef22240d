import { Inject, Injectable } from '@nestjs/common';
import { RedisConfigError } from '../src/redis';
import {
  EventBus,
  MessagingStats,
  OnMessage,
  StreamConsumer,
  StreamProducer,
  type MessageEnvelope,
} from '../src/messaging';
import { startCluster, uniquePrefix, type RedisClusterHandle } from './support/redis-harness';
import { Recorder, createMessagingApp, eventually } from './messaging/messaging-test.helpers';

@Injectable()
class ClusterJobs {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({
    stream: 'alpha',
    group: 'g',
    batchSize: 10,
    concurrency: 2,
    blockMs: 200,
    maxAttempts: 2,
    backoffMs: 5,
  })
  alpha(payload: { n: number; poison?: boolean }): void {
    if (payload.poison) throw new Error('poison');
    this.rec.push(`alpha:${payload.n}`);
  }

  @StreamConsumer({ stream: 'beta', group: 'g', batchSize: 10, concurrency: 2, blockMs: 200 })
  beta(payload: { n: number }): void {
    this.rec.push(`beta:${payload.n}`);
  }
}

@Injectable()
class ClusterSubscriber {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @OnMessage('a.one')
  one(_payload: unknown, env: MessageEnvelope): void {
    this.rec.push(env.type);
  }

  @OnMessage('b.two')
  two(_payload: unknown, env: MessageEnvelope): void {
    this.rec.push(env.type);
  }
}

@Injectable()
class PatternSubscriber {
  @OnMessage('a.*', { pattern: true })
  any(): void {}
}

describe('Messaging on a 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startCluster(3);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('streams: two consumers split the work of two streams on different slots, exactly once; DLQ in the same slot', async () => {
    const keyPrefix = uniquePrefix('cstream');
    const redis = { nodes: cluster.seeds, keyPrefix };
    const [a, b] = await Promise.all([
      createMessagingApp(redis, { consumerName: 'a' }, [ClusterJobs]),
      createMessagingApp(redis, { consumerName: 'b' }, [ClusterJobs]),
    ]);
    try {
      const producer = a.get(StreamProducer);
      const total = 100;
      for (let n = 0; n < total; n++) await Promise.all([producer.add('alpha', { n }), producer.add('beta', { n })]);
      await producer.add('alpha', { n: -1, poison: true });
      const ra = a.get(Recorder);
      const rb = b.get(Recorder);
      await eventually(() => ra.items.length + rb.items.length >= 2 * total, 20_000, 'all jobs');
      await eventually(async () => (await producer.info('alpha')).deadLetters === 1, 10_000, 'dead letter');
      const all = [...ra.items, ...rb.items] as string[];
      expect(all).toHaveLength(2 * total);
      expect(new Set(all).size).toBe(2 * total);
      const info = await producer.info('alpha');
      expect(info.groups[0]).toMatchObject({ name: 'g', pending: 0 });
      expect((await producer.deadLetters('alpha'))[0]).toMatchObject({ error: 'poison', attempts: 2 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('pub/sub uses sharded SSUBSCRIBE/SPUBLISH and reaches every instance', async () => {
    const keyPrefix = uniquePrefix('cbus');
    const redis = { nodes: cluster.seeds, keyPrefix };
    const [a, b] = await Promise.all([
      createMessagingApp(redis, {}, [ClusterSubscriber]),
      createMessagingApp(redis, {}, [ClusterSubscriber]),
    ]);
    try {
      const bus = a.get(EventBus);
      expect(bus.sharded).toBe(true);
      // Sharded channels are visible through PUBSUB SHARDCHANNELS on the node owning their slot.
      const shardChannels = new Set<string>();
      for (const node of cluster.nodes) {
        const c = node.client();
        for (const ch of (await c.call('PUBSUB', 'SHARDCHANNELS', `${keyPrefix}*`)) as string[]) shardChannels.add(ch);
        c.disconnect();
      }
      expect([...shardChannels].sort()).toEqual([`${keyPrefix}msg:a.one`, `${keyPrefix}msg:b.two`]);
      await eventually(
        async () => {
          await bus.publish('a.one', 1);
          await bus.publish('b.two', 2);
          return [a, b].every((app) => {
            const items = app.get(Recorder).items;
            return items.includes('a.one') && items.includes('b.two');
          });
        },
        10_000,
        'sharded messages on both instances',
      );
      expect(a.get(MessagingStats).snapshot().published).toBeGreaterThanOrEqual(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('refuses pattern subscriptions with sharded pub/sub, allows them with clusterPubSub: classic', async () => {
    const keyPrefix = uniquePrefix('cpat');
    const redis = { nodes: cluster.seeds, keyPrefix };
    await expect(createMessagingApp(redis, {}, [PatternSubscriber])).rejects.toBeInstanceOf(RedisConfigError);
    const app = await createMessagingApp(redis, { clusterPubSub: 'classic' }, [ClusterSubscriber]);
    try {
      const bus = app.get(EventBus);
      expect(bus.sharded).toBe(false);
      const got: string[] = [];
      const off = await bus.subscribe('a.*', (_p, env) => void got.push(env.type), { pattern: true });
      await eventually(
        async () => {
          await bus.publish('a.one', 1);
          return got.includes('a.one') && app.get(Recorder).items.includes('a.one');
        },
        10_000,
        'classic pattern message',
      );
      await off();
    } finally {
      await app.close();
    }
  });
});
