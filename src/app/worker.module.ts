import { Module } from '@nestjs/common';
import { MessagingModule, MetricsModule } from '../index';
import { coreModules } from './app.core';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { NotificationsModule } from './notifications/notifications.module';
import { APP_CLUSTER_PUBSUB } from './orders/order.events';

/**
 * The notifications worker on its own: Redis, the database and the `orders` stream consumer; its only HTTP routes
 * are the probes (/health, /health/ready, /metrics on WORKER_PORT) and it logs JSON lines like the API.
 * Competes with the API's consumers in the same group (or does all the work with MESSAGING_CONSUMERS=false on the API).
 */
@Module({
  imports: [
    ...coreModules(), // configuration, RedisModule, the database: the same as the API's
    LoggingModule, // JSON logs (nestjs-pino), LOG_LEVEL
    HealthModule, // GET /health (every Redis connection, the consumer's blocking one included), /health/ready (+ database)
    MetricsModule.forRoot(), // GET /metrics: connections, command latency, messaging counters and consumer lag
    MessagingModule.forRoot({ clusterPubSub: APP_CLUSTER_PUBSUB }), // the API's pub/sub mode: it relays our events
    NotificationsModule,
  ],
})
export class WorkerModule {}
