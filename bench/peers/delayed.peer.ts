/**
 * Delayed messages: 10,000 messages due at the same moment, drained into the handler — ours (StreamProducer.add
 * with `at` → the mover's Lua moves → @StreamConsumer) vs BullMQ delayed jobs (Queue.addBulk with `delay` → Worker),
 * both with one handler at a time (our consumer's `concurrency: 1`, BullMQ's Worker `concurrency: 1`). A round
 * schedules every message for a moment a few seconds ahead, then times from that moment (or from the end of the
 * scheduling, if it ends later) until the handler has seen the last one. Ours and BullMQ in alternating rounds;
 * the row gives msg/s, ratio = ours / BullMQ (median of the per-round ratios), target 2.0.
 */
import { Injectable } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { MessagingModule, StreamConsumer, StreamProducer } from '../../src';
import { uniquePrefix, type RedisServer } from '../../test/support/redis-harness';
import { median } from '../support/bench-runner';
import type { BenchMessage } from './message-sink';
import { featureApp, peerRow, type PeerGroup } from './peer-suite';

/** Messages due at the same moment in one round. */
const MESSAGES = 10_000;
const ROUNDS = Number(process.env.BENCH_DELAYED_ROUNDS ?? 3);
/** How far ahead of the round's start the messages are due: time to schedule them all, ms. */
const LEAD_MS = 4_000;
/** Least ratio ours / BullMQ. */
const DELAYED_TARGET = 2.0;

/** Counts handled messages and says when a round has seen all of them. */
class DrainSink {
  private count = 0;
  private done: (() => void) | undefined;
  lastAt = 0;

  handled(): void {
    this.lastAt = Date.now();
    if (++this.count === MESSAGES) this.done?.();
  }

  /** Resolves once {@link MESSAGES} messages were handled since the call. */
  expect(): Promise<void> {
    this.count = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.count} of ${MESSAGES} handled in 120 s`)), 120_000);
      this.done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const sink = new DrainSink();

@Injectable()
class DelayedHandler {
  @StreamConsumer({ stream: 'peers-delayed', group: 'peers' })
  handle(): void {
    sink.handled();
  }
}

/** Schedules {@link MESSAGES} messages due at `atMs` with `add`, 500 in flight; resolves when all are stored. */
async function scheduleAll(atMs: number, add: (m: BenchMessage, atMs: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < MESSAGES; start += 500) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = start; i < start + 500; i++) batch.push(add({ seq: i, orderId: i, sku: 'SKU-12345', qty: 3 }, atMs));
    await Promise.all(batch);
  }
}

/** One round: schedule, wait for the due moment and the drain; msg/s from the due moment (or scheduling end). */
async function round(add: (m: BenchMessage, atMs: number) => Promise<unknown>): Promise<number> {
  const drained = sink.expect();
  const dueAtMs = Date.now() + LEAD_MS;
  await scheduleAll(dueAtMs, add);
  const from = Math.max(dueAtMs, Date.now());
  await drained;
  return MESSAGES / (Math.max(sink.lastAt - from, 1) / 1000);
}

export const delayedPeers: PeerGroup = {
  name: 'delayed',
  setup: async (server: RedisServer) => {
    const app = await featureApp(server, 'peers-dl', [MessagingModule.forRoot({})], [DelayedHandler]);
    const producer = app.get(StreamProducer);
    const connection = { host: server.host, port: server.port };
    const bullPrefix = uniquePrefix('peers-bull-dl').replace(/:$/, '');
    const queue = new Queue<BenchMessage>('peers-delayed', { connection, prefix: bullPrefix });
    const worker = new Worker<BenchMessage>(
      'peers-delayed',
      async () => {
        sink.handled();
      },
      { connection, prefix: bullPrefix },
    );
    await worker.waitUntilReady();
    return {
      cases: [],
      measured: async () => {
        const ours: number[] = [];
        const peer: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          ours.push(await round((m, atMs) => producer.add('peers-delayed', m, { at: new Date(atMs), maxLen: 0 })));
          peer.push(await round((m, atMs) => queue.add('bench', m, { delay: Math.max(atMs - Date.now(), 0) })));
          await queue.clean(0, MESSAGES, 'completed');
        }
        console.log(
          `delayed: ${MESSAGES} due at once, drained in ms (ours / BullMQ) per round: ` +
            ours
              .map((o, i) => `${Math.round((MESSAGES / o) * 1000)} / ${Math.round((MESSAGES / peer[i]) * 1000)}`)
              .join(', '),
        );
        return [
          peerRow({
            group: 'delayed',
            case: `${MESSAGES} due at once, drained: StreamProducer.add({ at }) -> @StreamConsumer / BullMQ delayed jobs -> Worker`,
            callers: '1',
            ours: median(ours),
            peer: median(peer),
            unit: 'msg/s',
            ratio: median(ours.map((o, i) => o / peer[i])),
            target: DELAYED_TARGET,
          }),
        ];
      },
      teardown: async () => {
        await worker.close();
        await queue.close();
        await app.close();
      },
    };
  },
};
