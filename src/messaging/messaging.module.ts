import { Module } from '@nestjs/common';
import { EventBus } from './event-bus.service';
import { IdempotencyGuard } from './idempotency.guard';
import { MessagingConfigurableModule } from './messaging.module-definition';
import { MessagingMetrics } from './messaging.metrics';
import { resolvedOptionsProvider } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import { OnMessageHandler } from './on-message.decorator';
import { StreamConsumerHandler } from './stream-consumer.decorator';
import { StreamConsumerRegistry } from './stream-consumer.registry';
import { StreamProducer } from './stream-producer.service';

/**
 * Messaging on the shared Redis provider: a pub/sub {@link EventBus} (broadcast, `@OnMessage`) and durable
 * streams with consumer groups ({@link StreamProducer}, `@StreamConsumer`), global by default.
 * Needs RedisModule (its method explorer hands the decorated methods to the `@OnMessage` and `@StreamConsumer`
 * handlers); makes no connection of its own (dedicated ones come from `RedisService.duplicate`).
 */
@Module({
  providers: [
    resolvedOptionsProvider,
    MessagingStats,
    EventBus,
    StreamProducer,
    IdempotencyGuard,
    StreamConsumerRegistry,
    OnMessageHandler,
    StreamConsumerHandler,
    MessagingMetrics,
  ],
  exports: [EventBus, StreamProducer, IdempotencyGuard, MessagingStats, StreamConsumerRegistry],
})
export class MessagingModule extends MessagingConfigurableModule {}
