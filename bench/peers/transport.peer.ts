/**
 * The messaging transport: our Nest microservice transport on streams (RedisStreamsClient → RedisStreamsServer)
 * vs `@nestjs/microservices` Transport.REDIS (pub/sub, not durable) and vs BullMQ for durable events, all in this
 * process on the same redis-server, every side on its defaults:
 *
 * - `emit` → `@EventPattern` throughput, bursts of 100 events, 10 bursts in flight (target 2.0: while durable);
 * - `send` → `@MessagePattern` round trip, 50 callers back to back (target 1.5), and its p99 latency at the same
 *   load (lower is better, target 1.0: no worse);
 * - durable events: our `emit` → `@EventPattern` vs BullMQ `Queue.add` → Worker (target 3.0).
 */
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  Transport,
  type AsyncMicroserviceOptions,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Queue, Worker } from 'bullmq';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import {
  MessagingModule,
  RedisModule,
  RedisStreamsClient,
  RedisStreamsServer,
  RedisStreamsTransportModule,
} from '../../src';
import { uniquePrefix, type RedisServer } from '../../test/support/redis-harness';
import { measure, median, percentile } from '../support/bench-runner';
import { BURST, BURST_CALLERS, MessageSink, type BenchMessage } from './message-sink';
import { MESSAGING_TARGET, peerRow, type PeerGroup, type PeerRow } from './peer-suite';

const sink = new MessageSink();
/** emit throughput target vs Transport.REDIS (ours is durable, theirs is not). */
const EMIT_TARGET = 2.0;
/** send throughput target vs Transport.REDIS. */
const SEND_TARGET = 1.5;
/** Concurrent callers of the send rows. */
const SEND_CALLERS = 50;
/** Alternating rounds of the p99 row. */
const LATENCY_ROUNDS = 6;

@Controller()
class TransportHandlers {
  @EventPattern('peers.transport')
  event(@Payload() message: BenchMessage): void {
    sink.handled(message);
  }

  @MessagePattern('peers.echo')
  echo(@Payload() message: BenchMessage): { seq: number } {
    return { seq: message.seq };
  }
}

/** Our side: a pure microservice on the transport, and a client app (the caller) on the same Redis. */
async function ourTransport(server: RedisServer): Promise<{ service: INestMicroservice; client: RedisStreamsClient }> {
  const keyPrefix = uniquePrefix('peers-tr');
  @Module({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix }),
      MessagingModule.forRoot({}),
      RedisStreamsTransportModule.forRoot({ service: 'bench', sendTo: 'bench' }),
    ],
    controllers: [TransportHandlers],
  })
  class OurTransportModule {}
  const service = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(OurTransportModule, {
    inject: [RedisStreamsServer],
    useFactory: (strategy: RedisStreamsServer) => ({ strategy }),
    logger: ['error'],
  });
  await service.listen();
  return { service, client: service.get(RedisStreamsClient) };
}

export const transportPeers: PeerGroup = {
  name: 'transport',
  setup: async (server: RedisServer) => {
    const ours = await ourTransport(server);
    const connection = { host: server.host, port: server.port };
    @Module({ controllers: [TransportHandlers] })
    class NestRedisModule {}
    const nestRedis = await NestFactory.createMicroservice<MicroserviceOptions>(NestRedisModule, {
      transport: Transport.REDIS,
      options: connection,
      logger: ['error'],
    });
    await nestRedis.listen();
    const nestClient: ClientProxy = ClientProxyFactory.create({ transport: Transport.REDIS, options: connection });
    await nestClient.connect();
    const bullPrefix = uniquePrefix('peers-trbull').replace(/:$/, '');
    const queue = new Queue<BenchMessage>('peers-transport', { connection, prefix: bullPrefix });
    const worker = new Worker<BenchMessage>(
      'peers-transport',
      async (job) => {
        sink.handled(job.data);
      },
      { connection, prefix: bullPrefix },
    );
    await worker.waitUntilReady();

    let seq = 0;
    const ourSend = () =>
      firstValueFrom(ours.client.send('peers.echo', { seq: ++seq, orderId: seq, sku: 'S', qty: 1 }));
    const nestSend = () =>
      firstValueFrom(nestClient.send('peers.echo', { seq: ++seq, orderId: seq, sku: 'S', qty: 1 }));
    const ourEmit = () => sink.burst((m) => lastValueFrom(ours.client.emit('peers.transport', m)));

    /** p99 of send at the same load, ours and theirs in alternating rounds. */
    const latency = async (): Promise<PeerRow[]> => {
      const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000) / 2;
      const per = durationMs / LATENCY_ROUNDS;
      const mine: number[] = [];
      const theirs: number[] = [];
      for (let r = 0; r < LATENCY_ROUNDS; r++) {
        const order = r % 2 === 0 ? [nestSend, ourSend] : [ourSend, nestSend];
        for (const op of order) {
          const m = await measure(op, SEND_CALLERS, per);
          (op === ourSend ? mine : theirs).push(percentile(m.latenciesMs, 99));
        }
      }
      const p99 = { ours: median(mine), peer: median(theirs) };
      return [
        peerRow({
          group: 'transport',
          case: 'send p99 latency (ms): our transport / Transport.REDIS',
          callers: String(SEND_CALLERS),
          ours: p99.ours,
          peer: p99.peer,
          unit: 'ms',
          ratio: median(mine.map((m, i) => m / theirs[i])),
          target: 1.0,
          better: 'lower',
        }),
      ];
    };

    return {
      cases: [
        {
          case: 'emit: our transport / Transport.REDIS emit -> @EventPattern',
          callers: BURST_CALLERS,
          callersLabel: `${BURST_CALLERS}x${BURST}`,
          opsPerCall: BURST,
          ours: ourEmit,
          peer: () => sink.burst((m) => lastValueFrom(nestClient.emit('peers.transport', m))),
          target: EMIT_TARGET,
        },
        {
          case: 'send: our transport / Transport.REDIS send -> @MessagePattern reply',
          callers: SEND_CALLERS,
          ours: ourSend,
          peer: nestSend,
          target: SEND_TARGET,
        },
        {
          case: 'durable events: our transport emit -> @EventPattern / BullMQ Queue.add -> Worker',
          callers: BURST_CALLERS,
          callersLabel: `${BURST_CALLERS}x${BURST}`,
          opsPerCall: BURST,
          ours: ourEmit,
          peer: () => sink.burst((m) => queue.add('bench', m)),
          target: MESSAGING_TARGET,
        },
      ],
      measured: latency,
      teardown: async () => {
        await worker.close();
        await queue.close();
        await nestClient.close();
        await nestRedis.close();
        await ours.service.close();
      },
    };
  },
};
