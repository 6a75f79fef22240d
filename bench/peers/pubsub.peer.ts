/**
 * Pub/sub end to end: our EventBus.publish → @OnMessage handler vs @nestjs/microservices Transport.REDIS
 * (ClientProxy.emit → @EventPattern handler of a Redis microservice), both in this process, both on their defaults;
 * bursts of 100 events, 10 bursts in flight.
 */
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  EventPattern,
  Payload,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { EventBus, MessagingModule, OnMessage } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { BURST, BURST_CALLERS, MessageSink, type BenchMessage } from './message-sink';
import { featureApp, MESSAGING_TARGET, type PeerGroup } from './peer-suite';

const sink = new MessageSink();

@Injectable()
class EventHandler {
  @OnMessage('peers.event')
  handle(message: BenchMessage): void {
    sink.handled(message);
  }
}

@Controller()
class MicroserviceHandler {
  @EventPattern('peers.event')
  handle(@Payload() message: BenchMessage): void {
    sink.handled(message);
  }
}

export const pubsubPeers: PeerGroup = {
  name: 'pub/sub',
  setup: async (server: RedisServer) => {
    @Module({ controllers: [MicroserviceHandler] })
    class MicroserviceBenchModule {}

    const app = await featureApp(server, 'peers-ps', [MessagingModule.forRoot({})], [EventHandler]);
    const bus = app.get(EventBus);
    const connection = { host: server.host, port: server.port };
    const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(MicroserviceBenchModule, {
      transport: Transport.REDIS,
      options: connection,
      logger: ['error'],
    });
    await microservice.listen();
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.REDIS, options: connection });
    await client.connect();

    return {
      cases: [
        {
          case: 'end to end: EventBus.publish -> @OnMessage / Transport.REDIS emit -> @EventPattern',
          callers: BURST_CALLERS,
          callersLabel: `${BURST_CALLERS}x${BURST}`,
          opsPerCall: BURST,
          ours: () => sink.burst((m) => bus.publish('peers.event', m)),
          peer: () => sink.burst((m) => lastValueFrom(client.emit('peers.event', m))),
          target: MESSAGING_TARGET,
        },
      ],
      teardown: async () => {
        await client.close();
        await microservice.close();
        await app.close();
      },
    };
  },
};
