import { Module } from '@nestjs/common';
import { MessagingModule } from '../index';
import { coreModules } from './app.core';
import { NotificationsModule } from './notifications/notifications.module';
import { APP_CLUSTER_PUBSUB } from './orders/order.events';

/**
 * The notifications worker on its own: Redis, the database and the `orders` stream consumer, no HTTP.
 * Competes with the API's consumers in the same group (or does all the work with MESSAGING_CONSUMERS=false on the API).
 */
@Module({
  imports: [
    ...coreModules(), // configuration, RedisModule, the database: the same as the API's
    MessagingModule.forRoot({ clusterPubSub: APP_CLUSTER_PUBSUB }), // the API's pub/sub mode: it relays our events
    NotificationsModule,
  ],
})
export class WorkerModule {}
