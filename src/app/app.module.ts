import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MetricsModule, RedisCacheModule, RedisScheduleModule } from '../index';
import { appLockModule, coreModules } from './app.core';
import type { AppConfig } from './config/app.config';
import { HealthModule } from './health/health.module';
import { InventoryApiModule } from './inventory/inventory-api.module';
import { LoggingModule } from './logging/logging.module';
import { SecurityModule } from './security/security.module';
import { UsersModule } from './users/users.module';
import { shopMessagingModules } from './orders/orders.setup';
import { AuthModule } from './auth/auth.module';
import { CatalogModule } from './catalog/catalog.module';
import { operationsModules } from './operations/operations.module';

/** The reference service: the library's features composed on one shared Redis provider. */
@Module({
  imports: [
    ...coreModules(), // configuration, RedisModule (the shared provider), the database
    LoggingModule, // nestjs-pino: JSON lines, reqId, redaction, LOG_LEVEL
    SecurityModule,
    HealthModule,
    MetricsModule.forRoot(), // GET /metrics (Prometheus): Redis connections and command latency, feature counters
    UsersModule,
    CatalogModule, // cache: a faceted search over the seeded products, cached with tags, invalidated by writes
    AuthModule,
    appLockModule(), // locks: LOCK_TTL_MS, LOCK_WAIT_MS, LOCK_NODES
    RedisScheduleModule.forRoot({}), // @Scheduled jobs, each tick on one instance: the orders' clean-up
    InventoryApiModule, // locks: stock per SKU, reserved under `inventory:<sku>` with fencing tokens
    ...shopMessagingModules(), // messaging + transport: orders API, inventory and notifications services
    RedisCacheModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const nearEntries = Number(config.get('CACHE_NEAR_MAX_ENTRIES', { infer: true }));
        return {
          defaultTtlMs: Number(config.get('CACHE_TTL_MS', { infer: true })),
          nearCache: nearEntries > 0 ? { maxEntries: nearEntries } : false,
        };
      },
    }),
    ...operationsModules(), // the operations page at /admin, for users with the admin role
  ],
})
export class AppModule {}
