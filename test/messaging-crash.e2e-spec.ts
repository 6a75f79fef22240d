import { Injectable } from '@nestjs/common';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { RedisService } from '../src/redis';
import { MessagingStats, StreamConsumer, StreamProducer } from '../src/messaging';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';
import { createMessagingApp, eventually, startReadyChild } from './messaging/messaging-test.helpers';

@Injectable()
class SurvivorJobs {
  constructor(private readonly redis: RedisService) {}

  @StreamConsumer({ stream: 'jobs', group: 'workers', concurrency: 4, batchSize: 20, blockMs: 200, claimIdleMs: 1_000 })
  async handle(payload: { n: number }): Promise<void> {
    const client = this.redis.getClient();
    const prefix = this.redis.keyPrefix;
    await client.hincrby(`${prefix}deliveries`, String(payload.n), 1);
    await client.sadd(`${prefix}applied`, String(payload.n));
  }
}

function startChild(url: string, keyPrefix: string): Promise<ChildProcess> {
  return startReadyChild(join(__dirname, 'messaging/crash-consumer.fixture.ts'), [url, keyPrefix]);
}

describe('Messaging: a consumer process killed mid-batch', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('its pending messages are reclaimed by another consumer; nothing is lost, each applied exactly once', async () => {
    const keyPrefix = uniquePrefix('crash');
    const total = 200;
    const child = await startChild(server.url, keyPrefix);
    const raw = server.client();
    let survivor: Awaited<ReturnType<typeof createMessagingApp>> | undefined;
    try {
      const producer = await createMessagingApp({ url: server.url, keyPrefix }, { disableConsumers: true });
      const streams = producer.get(StreamProducer);
      for (let n = 0; n < total; n++) await streams.add('jobs', { n });
      await producer.close();

      // Let the child get through part of the work, then kill it in the middle of a batch.
      await eventually(async () => (await raw.scard(`${keyPrefix}applied`)) >= 30, 20_000, 'child progress');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const pendingAtKill = Number(
        ((await raw.call('XPENDING', `${keyPrefix}msg:stream:{jobs}`, 'workers')) as unknown[])[0],
      );
      expect(pendingAtKill).toBeGreaterThan(0);

      survivor = await createMessagingApp({ url: server.url, keyPrefix }, { consumerName: 'survivor' }, [SurvivorJobs]);
      await eventually(async () => (await raw.scard(`${keyPrefix}applied`)) === total, 30_000, 'all applied');
      await eventually(
        async () =>
          Number(((await raw.call('XPENDING', `${keyPrefix}msg:stream:{jobs}`, 'workers')) as unknown[])[0]) === 0,
        10_000,
        'nothing pending',
      );
      expect(survivor.get(MessagingStats).snapshot().reclaimed).toBeGreaterThanOrEqual(pendingAtKill);
      const deliveries = Object.values(await raw.hgetall(`${keyPrefix}deliveries`)).map(Number);
      expect(deliveries).toHaveLength(total);
      // At-least-once: a message the child handled but had not acked yet may be handled twice, never lost.
      expect(deliveries.every((d) => d >= 1 && d <= 2)).toBe(true);
      expect(await raw.xlen(`${keyPrefix}msg:stream:{jobs}:dlq`)).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      raw.disconnect();
      await survivor?.close();
    }
  });
});
