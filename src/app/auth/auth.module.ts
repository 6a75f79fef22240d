import { Module, RequestMethod } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SessionModule } from '../../index';
import type { AppConfig } from '../config/app.config';
import { UsersModule } from '../users/users.module';
import { AppUserLookup } from './app-user.lookup';
import { AuthController } from './auth.controller';

/**
 * Routes that never read the session store: the probes, the metrics and the API docs answer the same with or without
 * a session cookie, also while Redis is down (no 503, no `Set-Cookie`).
 */
export const SESSIONLESS_ROUTES = [
  'health',
  'health/{*path}',
  'metrics',
  'docs',
  'docs/{*path}',
  'docs-json',
  'docs-yaml',
].map((path) => ({ path, method: RequestMethod.ALL }));

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
          maxSessionsPerUser: Number(get('SESSION_MAX_PER_USER')) || undefined,
          sessionLimitPolicy: get('SESSION_LIMIT_POLICY') === 'refuse-new' ? 'refuse-new' : 'evict-oldest',
          absoluteTimeoutMs: Number(get('SESSION_ABSOLUTE_TIMEOUT_MS')) || undefined,
          exclude: SESSIONLESS_ROUTES,
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
