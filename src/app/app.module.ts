import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { RedisModule } from '../index';
import { validateConfig, type AppConfig } from './config/app.config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { UsersModule } from './users/users.module';
import { AuthModule } from './auth/auth.module';

/** The reference service: the library's four features composed on one shared Redis provider. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, cache: true, validate: validateConfig }),
    RedisModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        url: config.get('REDIS_URL', { infer: true }) ?? 'redis://127.0.0.1:6379',
        keyPrefix: config.get('REDIS_KEY_PREFIX', { infer: true }),
      }),
    }),
    DatabaseModule,
    HealthModule,
    UsersModule,
    AuthModule,
    // feature modules (cache, session, messaging, lock) are added below by their issues
  ],
})
export class AppModule {}
