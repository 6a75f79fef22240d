import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SessionModule } from '../../index';
import type { AppConfig } from '../config/app.config';
import { UsersModule } from '../users/users.module';
import { AppUserLookup } from './app-user.lookup';
import { AuthController } from './auth.controller';

/** Sessions in Redis and the `/auth` endpoints of the reference service. */
@Module({
  imports: [
    SessionModule.forRootAsync({
      inject: [ConfigService],
      // ConfigService.get may return the raw environment string: coerce (the values were validated at startup).
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const get = (key: keyof AppConfig): unknown => config.get(key, { infer: true });
        const bool = (value: unknown): boolean | undefined =>
          value === undefined ? undefined : value === true || value === 'true';
        return {
          secrets: String(get('SESSION_SECRET'))
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
          cookieName: String(get('SESSION_COOKIE_NAME')),
          ttlMs: Number(get('SESSION_TTL_MS')),
          rolling: bool(get('SESSION_ROLLING')) ?? true,
          secure: bool(get('SESSION_COOKIE_SECURE')) ?? get('NODE_ENV') === 'production',
          loginMaxAttempts: Number(get('LOGIN_MAX_ATTEMPTS')),
          loginWindowMs: Number(get('LOGIN_WINDOW_MS')),
        };
      },
      userLookup: AppUserLookup,
      lookupImports: [UsersModule],
    }),
    UsersModule,
  ],
  controllers: [AuthController],
})
export class AuthModule {}
