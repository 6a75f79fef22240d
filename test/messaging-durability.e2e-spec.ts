/**
 * Replicated durability of StreamProducer.add (`{ durability: 'replicated', replicas, timeoutMs }`): XADD then
 * WAIT on the same connection. On a master with a synced replica it resolves with `replicatedTo`; with no replica
 * (or a frozen one) it rejects with ReplicationTimeoutError after `timeoutMs` (the message stays on the master),
 * or reports `replicatedTo: 0` with `onShortfall: 'report'`; a bad option is a RedisConfigError. On a Cluster with
 * replicas the WAIT goes to the stream's node.
 */
import type { TestingModule } from '@nestjs/testing';
import { RedisConfigError } from '../src/redis';
import { ReplicationTimeoutError, StreamProducer } from '../src/messaging';
import { startCluster, startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';
import { createMessagingApp } from './messaging/messaging-test.helpers';

const replicated = { durability: 'replicated' as const, replicas: 1, timeoutMs: 300 };

async function waitSynced(replica: RedisServer): Promise<void> {
  const c = replica.client();
  try {
    for (let i = 0; i < 200; i++) {
      if (/master_link_status:up/.test(await c.info('replication'))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('replica did not sync');
  } finally {
    c.disconnect();
  }
}

describe('Messaging: replicated durability (XADD + WAIT)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let lone: RedisServer;
  const apps: TestingModule[] = [];
  const producer = async (url: string) => {
    const app = await createMessagingApp({ url, keyPrefix: uniquePrefix('durable') }, { disableConsumers: true });
    apps.push(app);
    return app.get(StreamProducer);
  };
  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ args: ['--replicaof', master.host, String(master.port)] });
    lone = await startRedis();
    await waitSynced(replica);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await Promise.all([master, replica, lone].map((s) => s?.stop()));
  });

  it('resolves once the replica has the message, with replicatedTo', async () => {
    const streams = await producer(master.url);
    const r = await streams.add('orders', { n: 1 }, { durability: replicated });
    expect(r.replicatedTo).toBe(1);
    const onReplica = replica.client();
    try {
      expect(await onReplica.xlen(streams.key('orders'))).toBe(1);
    } finally {
      onReplica.disconnect();
    }
    // The default durability does not wait and reports nothing.
    expect((await streams.add('orders', { n: 2 })).replicatedTo).toBeUndefined();
  });

  it('rejects with ReplicationTimeoutError when no replica confirms in time; the message is on the master', async () => {
    const streams = await producer(lone.url);
    const err = await streams.add('orders', { n: 1 }, { durability: replicated }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationTimeoutError);
    expect(err).toMatchObject({ stream: 'orders', replicas: 1, replicatedTo: 0, timeoutMs: 300 });
    expect((err as ReplicationTimeoutError).streamId).toMatch(/^\d+-\d+$/);
    const c = lone.client();
    try {
      expect(await c.xlen(streams.key('orders'))).toBe(1);
    } finally {
      c.disconnect();
    }
    const reported = await streams.add('orders', { n: 2 }, { durability: { ...replicated, onShortfall: 'report' } });
    expect(reported.replicatedTo).toBe(0);
  });

  it('rejects when the replica is frozen, and resolves again once it answers', async () => {
    const streams = await producer(master.url);
    replica.pause();
    try {
      await expect(streams.add('frozen', { n: 1 }, { durability: replicated })).rejects.toBeInstanceOf(
        ReplicationTimeoutError,
      );
    } finally {
      replica.resume();
    }
    expect(
      (await streams.add('frozen', { n: 2 }, { durability: { ...replicated, timeoutMs: 5_000 } })).replicatedTo,
    ).toBe(1);
  });

  it('refuses a bad durability option with a RedisConfigError naming it, and a delayed replicated add', async () => {
    const streams = await producer(master.url);
    await expect(streams.add('x', {}, { durability: { ...replicated, replicas: 0 } })).rejects.toThrow(
      RedisConfigError,
    );
    await expect(streams.add('x', {}, { durability: { ...replicated, timeoutMs: -1 } })).rejects.toThrow(
      /durability\.timeoutMs/,
    );
    await expect(streams.add('x', {}, { durability: replicated, delayMs: 1_000 })).rejects.toThrow(RangeError);
  });

  it('on a Cluster with replicas, waits on the node of the stream', async () => {
    const cluster = await startCluster(3, { replicasPerMaster: 1 });
    try {
      const app = await createMessagingApp(
        { nodes: cluster.seeds, keyPrefix: uniquePrefix('durable') },
        { disableConsumers: true },
      );
      apps.push(app);
      const streams = app.get(StreamProducer);
      for (const name of ['a', 'b', 'c', 'd']) {
        expect(
          (await streams.add(name, { name }, { durability: { ...replicated, timeoutMs: 2_000 } })).replicatedTo,
        ).toBe(1);
      }
    } finally {
      await cluster.stop();
    }
  });
});
