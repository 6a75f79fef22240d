/**
 * Durable messages end to end: our StreamProducer.add → @StreamConsumer handler (XADD, XREADGROUP, XACK) vs BullMQ
 * Queue.add → Worker processor, both on their documented defaults (one handler at a time: our consumer's
 * `concurrency: 1`, BullMQ's Worker `concurrency: 1`); bursts of 100 messages, 10 bursts in flight. Plus the
 * Redis memory each keeps per message not yet consumed (used_memory delta / count).
 */
import { Injectable } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { MessagingModule, RedisService, StreamConsumer, StreamProducer, streamKey } from '../../src';
import { uniquePrefix, type RedisServer } from '../../test/support/redis-harness';
import { median } from '../support/bench-runner';
import { BURST, BURST_CALLERS, MessageSink, type BenchMessage } from './message-sink';
import { featureApp, MESSAGING_TARGET, PEER_TARGET, peerRow, type PeerGroup, type PeerRow } from './peer-suite';

const sink = new MessageSink();
/** Messages added per memory round (nobody consumes them). */
const MEMORY_MESSAGES = 5_000;
const MEMORY_ROUNDS = 3;

@Injectable()
class StreamHandler {
  @StreamConsumer({ stream: 'peers', group: 'peers' })
  handle(message: BenchMessage): void {
    sink.handled(message);
  }
}

/** Adds `n` messages with `add`, 500 in flight at a time. */
async function addMany(n: number, add: (m: BenchMessage) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < n; start += 500) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(n, start + 500); i++)
      batch.push(add({ seq: i, orderId: i, sku: 'SKU-12345', qty: 3 }));
    await Promise.all(batch);
  }
}

export const streamsPeers: PeerGroup = {
  name: 'streams',
  setup: async (server: RedisServer) => {
    const app = await featureApp(server, 'peers-st', [MessagingModule.forRoot({})], [StreamHandler]);
    const producer = app.get(StreamProducer);
    const redis = app.get(RedisService);
    const connection = { host: server.host, port: server.port };
    const bullPrefix = uniquePrefix('peers-bull').replace(/:$/, '');
    const queue = new Queue<BenchMessage>('peers', { connection, prefix: bullPrefix });
    const worker = new Worker<BenchMessage>(
      'peers',
      async (job) => {
        sink.handled(job.data);
      },
      { connection, prefix: bullPrefix },
    );
    await worker.waitUntilReady();
    const admin = server.client();

    /** Redis used_memory, bytes. */
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    const bytesPerMessage = async (add: (m: BenchMessage) => Promise<unknown>) => {
      const before = await usedMemory();
      await addMany(MEMORY_MESSAGES, add);
      return ((await usedMemory()) - before) / MEMORY_MESSAGES;
    };

    const memory = async (): Promise<PeerRow[]> => {
      const ours: number[] = [];
      const peer: number[] = [];
      const memQueue = new Queue<BenchMessage>('peers-memory', { connection, prefix: bullPrefix });
      try {
        for (let r = 0; r < MEMORY_ROUNDS; r++) {
          ours.push(await bytesPerMessage((m) => producer.add('peers-memory', m)));
          await admin.del(streamKey(redis.prefixFor('msg'), 'peers-memory'));
          peer.push(await bytesPerMessage((m) => memQueue.add('bench', m)));
          await memQueue.obliterate({ force: true });
        }
      } finally {
        await memQueue.close();
      }
      return [
        peerRow({
          group: 'streams',
          case: 'memory per retained message: stream entry / BullMQ job',
          callers: '-',
          ours: median(ours),
          peer: median(peer),
          unit: 'B/msg',
          ratio: median(ours.map((o, i) => o / peer[i])),
          target: PEER_TARGET,
          better: 'lower',
        }),
      ];
    };

    return {
      cases: [
        {
          case: 'end to end: StreamProducer.add -> @StreamConsumer / BullMQ Queue.add -> Worker',
          callers: BURST_CALLERS,
          callersLabel: `${BURST_CALLERS}x${BURST}`,
          opsPerCall: BURST,
          ours: () => sink.burst((m) => producer.add('peers', m)),
          peer: () => sink.burst((m) => queue.add('bench', m)),
          target: MESSAGING_TARGET,
        },
      ],
      measured: memory,
      teardown: async () => {
        await worker.close();
        await queue.close();
        await app.close();
        admin.disconnect();
      },
    };
  },
};
