import { Module } from '@nestjs/common';
import { MessagingModule, MetricsModule } from '../index';
import { coreModules } from './app.core';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { NotificationsModule } from './notifications/notifications.module';
import { APP_CLUSTER_PUBSUB } from './orders/order.events';

/**
 * The notifications service on its own: Redis, the database, its transport server (`order.created` handler) and the
 * reminders' stream consumers; its only HTTP routes are the probes (/health, /health/ready, /metrics on WORKER_PORT)
 * and it logs JSON lines like the API. Its instances and the API's (unless MESSAGING_CONSUMERS=false there) share
 * the consumer groups: each event is handled once by one of them.
 */
@Module({
  imports: [
    ...coreModules(), // configuration, RedisModule, the database: the same as the API's
    LoggingModule, // JSON logs (nestjs-pino), LOG_LEVEL
    HealthModule, // GET /health (every Redis connection, the consumers' blocking ones included), /health/ready (+ database)
    MetricsModule.forRoot(), // GET /metrics: connections, command latency, messaging and transport counters, lag
    MessagingModule.forRoot({ clusterPubSub: APP_CLUSTER_PUBSUB }), // the API's pub/sub mode: it relays our events
    NotificationsModule,
  ],
})
export class WorkerModule {}
