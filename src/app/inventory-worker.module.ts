import { Module } from '@nestjs/common';
import { MessagingModule, MetricsModule } from '../index';
import { appLockModule, coreModules } from './app.core';
import { HealthModule } from './health/health.module';
import { InventoryRpcModule } from './inventory/inventory-rpc.module';
import { LoggingModule } from './logging/logging.module';
import { APP_CLUSTER_PUBSUB } from './orders/order.events';

/**
 * The inventory service on its own: Redis, the database, the locks and its transport server (`inventory.reserve`,
 * `inventory.release`); its only HTTP routes are the probes (/health, /health/ready, /metrics on INVENTORY_PORT).
 * Its instances and the API's (unless INVENTORY_SERVER=false there) read the same request stream: each request is
 * answered by one of them.
 */
@Module({
  imports: [
    ...coreModules(), // configuration, RedisModule, the database: the same as the API's
    LoggingModule,
    HealthModule,
    MetricsModule.forRoot(),
    MessagingModule.forRoot({ clusterPubSub: APP_CLUSTER_PUBSUB }), // the stream engine the transport runs on
    appLockModule(), // the SKUs' locks and fencing tokens, as in the API
    InventoryRpcModule,
  ],
})
export class InventoryWorkerModule {}
