import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MetricsModule, RedisCacheModule, RedisModule } from '../index';
import { validateConfig, type AppConfig } from './config/app.config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LockModule } from '../index';
import { InventoryModule } from './inventory/inventory.module';
import { LoggingModule } from './logging/logging.module';
import { SecurityModule } from './security/security.module';
import { redisConnectionFromConfig } from './config/redis-connection';
import { UsersModule } from './users/users.module';
import { shopMessagingModules } from './orders/orders.setup';
import { AuthModule } from './auth/auth.module';

/** The reference service: the library's four features composed on one shared Redis provider. */
@Module({
  imports: [
    // Validated when the app is created (not when this file is imported), so tests can vary the environment.
    ConfigModule.forRoot({ isGlobal: true, cache: true, load: [() => validateConfig(process.env)] }),
    RedisModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        ...redisConnectionFromConfig(config), // REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME
        keyPrefix: config.get('REDIS_KEY_PREFIX', { infer: true }),
      }),
    }),
    LoggingModule, // nestjs-pino: JSON lines, reqId, redaction, LOG_LEVEL
    DatabaseModule,
    SecurityModule,
    HealthModule,
    MetricsModule.forRoot(), // GET /metrics (Prometheus): Redis connections and command latency, feature counters
    UsersModule,
    AuthModule,
    // feature modules (cache, session, messaging, lock) are added below by their issues
    LockModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        defaultTtlMs: Number(config.get('LOCK_TTL_MS', { infer: true })),
        defaultWaitMs: Number(config.get('LOCK_WAIT_MS', { infer: true })),
        nodes: config.get('LOCK_NODES', { infer: true })?.split(','), // locks: quorum on independent nodes if set
      }),
    }),
    InventoryModule, // locks: stock per SKU, reserved under `inventory:<sku>` with fencing tokens
    ...shopMessagingModules(), // messaging: MessagingModule, orders API, notifications consumer
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
  ],
})
export class AppModule {}
