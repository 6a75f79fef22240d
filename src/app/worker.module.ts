import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MessagingModule, RedisModule } from '../index';
import { validateConfig, type AppConfig } from './config/app.config';
import { redisConnectionFromConfig } from './config/redis-connection';
import { DatabaseModule } from './database/database.module';
import { NotificationsModule } from './notifications/notifications.module';

/**
 * The notifications worker on its own: Redis, the database and the `orders` stream consumer, no HTTP.
 * Competes with the API's consumers in the same group (or does all the work with MESSAGING_CONSUMERS=false on the API).
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, cache: true, load: [() => validateConfig(process.env)] }),
    RedisModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        ...redisConnectionFromConfig(config), // REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME
        keyPrefix: config.get('REDIS_KEY_PREFIX', { infer: true }),
      }),
    }),
    DatabaseModule,
    MessagingModule.forRoot({}),
    NotificationsModule,
  ],
})
export class WorkerModule {}
