import { Module } from '@nestjs/common';
import { RedisStreamsClient } from './redis-streams.client';
import { defaultClientProvider } from './redis-streams.clients';
import { RedisStreamsServer } from './redis-streams.server';
import { TransportConfigurableModule } from './transport.module-definition';
import { resolvedTransportOptionsProvider, TRANSPORT_RESOLVED_OPTIONS } from './transport.providers';
import { TransportMetrics } from './transport.metrics';
import { TransportStats } from './transport.stats';

/**
 * The Nest microservice transport on Redis Streams: {@link RedisStreamsServer} (the `CustomTransportStrategy` of
 * this app's service, `service`) and an injectable {@link RedisStreamsClient} (its `send()` targets `sendTo`),
 * with their counters and metrics; global by default.
 *
 * ```ts
 * imports: [RedisModule.forRoot(...), MessagingModule.forRoot({}), RedisStreamsTransportModule.forRoot({ service: 'billing' })]
 * app.connectMicroservice({ strategy: app.get(RedisStreamsServer) }); await app.startAllMicroservices();
 * ```
 *
 * Needs MessagingModule (global by default: the stream engine, its producer, consumer defaults and counters) and
 * RedisModule; makes no connection of its own (dedicated ones come from `RedisService.duplicate`). Loads
 * `@nestjs/microservices`, which `nest-redis-kit/messaging` alone never does.
 */
@Module({
  providers: [
    resolvedTransportOptionsProvider,
    TransportStats,
    RedisStreamsServer,
    defaultClientProvider,
    TransportMetrics,
  ],
  exports: [TransportStats, RedisStreamsServer, RedisStreamsClient, TRANSPORT_RESOLVED_OPTIONS],
})
export class RedisStreamsTransportModule extends TransportConfigurableModule {}
