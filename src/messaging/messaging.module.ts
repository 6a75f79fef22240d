import { Module } from '@nestjs/common';
import { EventBus } from './event-bus.service';
import { IdempotencyGuard } from './idempotency.guard';
import { MessagePipeline } from './message-pipeline';
import { MessagingConfigurableModule } from './messaging.module-definition';
import { MessagingMetrics } from './messaging.metrics';
import { MESSAGING_RESOLVED_OPTIONS, resolvedOptionsProvider } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import { OnMessageHandler } from './on-message.decorator';
import { StreamConsumerHandler } from './stream-consumer.decorator';
import { StreamConsumerRegistry } from './stream-consumer.registry';
import { StreamDelayMover } from './stream-delay.mover';
import { StreamProducer } from './stream-producer.service';

/**
 * Messaging on the shared Redis provider: a pub/sub {@link EventBus} (broadcast, `@OnMessage`) and durable
 * streams with consumer groups ({@link StreamProducer}, `@StreamConsumer`), global by default. The Nest
 * microservice transport on these streams is `RedisStreamsTransportModule` (`nest-redis-kit/transport`), so that
 * an app without it never loads `@nestjs/microservices`. `@OnMessage` and
 * `@StreamConsumer` handlers run through the application's guards, interceptors, pipes and filters
 * ({@link MessagePipeline}).
 * Needs RedisModule (its method explorer hands the decorated methods to the `@OnMessage` and `@StreamConsumer`
 * handlers); makes no connection of its own (dedicated ones come from `RedisService.duplicate`).
 */
@Module({
  providers: [
    resolvedOptionsProvider,
    MessagingStats,
    EventBus,
    StreamProducer,
    StreamDelayMover,
    IdempotencyGuard,
    StreamConsumerRegistry,
    MessagePipeline,
    OnMessageHandler,
    StreamConsumerHandler,
    MessagingMetrics,
  ],
  exports: [
    EventBus,
    StreamProducer,
    StreamDelayMover,
    IdempotencyGuard,
    MessagingStats,
    StreamConsumerRegistry,
    MESSAGING_RESOLVED_OPTIONS,
  ],
})
export class MessagingModule extends MessagingConfigurableModule {}
