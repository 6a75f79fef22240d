import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventBus } from './event-bus.service';
import { IdempotencyGuard } from './idempotency.guard';
import { MessagingConfigurableModule } from './messaging.module-definition';
import { MessagingExplorer } from './messaging.explorer';
import { MessagingMetrics } from './messaging.metrics';
import { resolvedOptionsProvider } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import { StreamProducer } from './stream-producer.service';

/**
 * Messaging on the shared Redis provider: a pub/sub {@link EventBus} (broadcast, `@OnMessage`) and durable
 * streams with consumer groups ({@link StreamProducer}, `@StreamConsumer`), global by default.
 * Needs RedisModule; makes no connection of its own (dedicated ones come from `RedisService.duplicate`).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    MessagingStats,
    EventBus,
    StreamProducer,
    IdempotencyGuard,
    MessagingExplorer,
    MessagingMetrics,
  ],
  exports: [EventBus, StreamProducer, IdempotencyGuard, MessagingStats, MessagingExplorer],
})
export class MessagingModule extends MessagingConfigurableModule {}
