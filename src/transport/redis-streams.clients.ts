import { Module, type DynamicModule, type FactoryProvider } from '@nestjs/common';
import { check } from '../core/option-checker';
import { RedisService } from '../redis/redis.service';
import type { ResolvedMessagingOptions } from '../messaging/messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from '../messaging/messaging.providers';
import type { ResolvedTransportOptions } from './transport.options';
import { TRANSPORT_RESOLVED_OPTIONS } from './transport.providers';
import { StreamProducer } from '../messaging/stream-producer.service';
import { RedisStreamsClient } from './redis-streams.client';
import { TransportStats } from './transport.stats';

/** One client of {@link RedisStreamsClientsModule.register}. */
export interface RedisStreamsClientRegistration {
  /** Injection token: `@Inject(name) client: RedisStreamsClient`. */
  name: string | symbol;
  /** Service its `send()` targets. */
  service: string;
  /** `send()` timeout, ms (default: `RedisStreamsTransportModule`'s `requestTimeoutMs`). */
  requestTimeoutMs?: number;
}

const CLIENT_DEPENDENCIES = [
  RedisService,
  StreamProducer,
  TransportStats,
  MESSAGING_RESOLVED_OPTIONS,
  TRANSPORT_RESOLVED_OPTIONS,
];

/** A client provider under `token` that targets `service` (default: `sendTo`), waiting `timeoutMs` (default: the module's). */
function clientProvider(
  token: FactoryProvider['provide'],
  service?: string,
  timeoutMs?: number,
): FactoryProvider<RedisStreamsClient> {
  return {
    provide: token,
    inject: CLIENT_DEPENDENCIES,
    useFactory: (
      redis: RedisService,
      producer: StreamProducer,
      stats: TransportStats,
      o: ResolvedMessagingOptions,
      t: ResolvedTransportOptions,
    ) =>
      new RedisStreamsClient(redis, producer, stats, {
        clientName: o.clientName,
        service: service ?? t.sendTo,
        requestTimeoutMs: timeoutMs ?? t.requestTimeoutMs,
        instanceName: o.consumerName,
        requestMaxLen: t.requestMaxLen,
      }),
  };
}

/** The provider of the client RedisStreamsTransportModule injects as `RedisStreamsClient` (targets `sendTo`). */
export const defaultClientProvider: FactoryProvider<RedisStreamsClient> = clientProvider(RedisStreamsClient);

/**
 * `ClientsModule` for the transport: one {@link RedisStreamsClient} per target service, each under its token, for
 * an application that talks to several services. Needs RedisStreamsTransportModule and MessagingModule (both global
 * by default), whose Redis client, producer and counters the clients share.
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
      return clientProvider(c.name, c.service, timeoutMs);
    });
    return { module: RedisStreamsClientsModule, providers, exports: providers.map((p) => p.provide) };
  }
}
