import type { DynamicModule, Type } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { LockModule, RedisModule } from '../index';
import { validateConfig, type AppConfig } from './config/app.config';
import { redisConnectionFromConfig } from './config/redis-connection';
import { DatabaseModule } from './database/database.module';
import { TelemetryModule } from './telemetry/telemetry.module';

/**
 * What every process of the reference service stands on, the API (AppModule) and the notifications worker
 * (WorkerModule) alike: the validated configuration, the shared Redis provider, the database and the flush of
 * OpenTelemetry's spans.
 */
export function coreModules(): Array<DynamicModule | Promise<DynamicModule> | Type> {
  return [
    // Validated when the app is created (not when this file is imported), so tests can vary the environment.
    ConfigModule.forRoot({ isGlobal: true, cache: true, load: [() => validateConfig(process.env)] }),
    RedisModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        ...redisConnectionFromConfig(config), // REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES
        keyPrefix: config.get('REDIS_KEY_PREFIX', { infer: true }),
      }),
    }),
    DatabaseModule,
    TelemetryModule, // flushes OpenTelemetry's spans on shutdown (when OTEL_EXPORTER_OTLP_ENDPOINT started it)
  ];
}

/** LockModule as the reference service configures it (the API and the inventory service): LOCK_TTL_MS, LOCK_WAIT_MS, LOCK_NODES. */
export function appLockModule(): DynamicModule {
  return LockModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService<AppConfig, true>) => ({
      defaultTtlMs: Number(config.get('LOCK_TTL_MS', { infer: true })),
      defaultWaitMs: Number(config.get('LOCK_WAIT_MS', { infer: true })),
      nodes: config.get('LOCK_NODES', { infer: true })?.split(','), // locks: quorum on independent nodes if set
    }),
  });
}
