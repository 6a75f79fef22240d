import { Module, type DynamicModule, type FactoryProvider } from '@nestjs/common';
import { check } from '../../core/option-checker';
import { RedisService } from '../../redis/redis.service';
import type { ResolvedMessagingOptions } from '../messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from '../messaging.providers';
import { StreamProducer } from '../stream-producer.service';
import { RedisStreamsClient } from './redis-streams.client';
import { TransportStats } from './transport.stats';

/** One client of {@link RedisStreamsClientsModule.register}. */
export interface RedisStreamsClientRegistration {
  /** Injection token: `@Inject(name) client: RedisStreamsClient`. */
  name: string | symbol;
  /** Service its `send()` targets. */
  service: string;
  /** `send()` timeout, ms (default: the module's `transport.requestTimeoutMs`). */
  requestTimeoutMs?: number;
}

/** The provider of the client MessagingModule injects as `RedisStreamsClient` (targets `transport.sendTo`). */
export const defaultClientProvider: FactoryProvider<RedisStreamsClient> = {
  provide: RedisStreamsClient,
  inject: [RedisService, StreamProducer, TransportStats, MESSAGING_RESOLVED_OPTIONS],
  useFactory: (redis: RedisService, producer: StreamProducer, stats: TransportStats, o: ResolvedMessagingOptions) =>
    new RedisStreamsClient(redis, producer, stats, {
      clientName: o.clientName,
      service: o.transport.sendTo,
      requestTimeoutMs: o.transport.requestTimeoutMs,
      instanceName: o.consumerName,
      requestMaxLen: o.transport.requestMaxLen,
    }),
};

/**
 * `ClientsModule` for the transport: one {@link RedisStreamsClient} per target service, each under its token, for
 * an application that talks to several services. Needs MessagingModule (global by default), whose Redis client,
 * producer and counters the clients share.
 *
 * ```ts
 * RedisStreamsClientsModule.register([{ name: 'INVENTORY', service: 'inventory' }])
 * constructor(@Inject('INVENTORY') private readonly inventory: RedisStreamsClient) {}
 * ```
 */
@Module({})
export class RedisStreamsClientsModule {
  /** A module providing and exporting one client per registration; options are checked at startup. */
  static register(clients: RedisStreamsClientRegistration[]): DynamicModule {
    const providers = clients.map((c, i): FactoryProvider<RedisStreamsClient> => {
      const path = `RedisStreamsClientsModule.register[${i}]`;
      if (check.keyPart(`${path}.service`, c.service) === undefined) check.fail(`${path}.service`, 'is required');
      const timeoutMs = check.durationMs(`${path}.requestTimeoutMs`, c.requestTimeoutMs, { min: 1 });
      return {
        provide: c.name,
        inject: [RedisService, StreamProducer, TransportStats, MESSAGING_RESOLVED_OPTIONS],
        useFactory: (
          redis: RedisService,
          producer: StreamProducer,
          stats: TransportStats,
          o: ResolvedMessagingOptions,
        ) =>
          new RedisStreamsClient(redis, producer, stats, {
            clientName: o.clientName,
            service: c.service,
            requestTimeoutMs: timeoutMs ?? o.transport.requestTimeoutMs,
            instanceName: o.consumerName,
            requestMaxLen: o.transport.requestMaxLen,
          }),
      };
    });
    return { module: RedisStreamsClientsModule, providers, exports: providers.map((p) => p.provide) };
  }
}
