import { Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import { RateLimitModule, RedisService, RedisThrottlerStorage } from '../../index';
import type { AppConfig } from '../config/app.config';

/** Routes the tighter `login` throttler applies to (method + Express route path). */
const LOGIN_ROUTES = new Set(['POST /auth/login']);

/**
 * Requests per minute per IP when the variable is unset: generous globally, tight on login, in between on search; off
 * under NODE_ENV=test.
 */
export function rateLimits(config: ConfigService<AppConfig, true>): {
  perMinute: number;
  loginPerMinute: number;
  searchPerMinute: number;
} {
  const test = config.get('NODE_ENV', { infer: true }) === 'test';
  return {
    perMinute: config.get('RATE_LIMIT_PER_MINUTE', { infer: true }) ?? (test ? 0 : 1000),
    loginPerMinute: config.get('LOGIN_RATE_LIMIT_PER_MINUTE', { infer: true }) ?? (test ? 0 : 10),
    searchPerMinute: config.get('SEARCH_RATE_LIMIT_PER_MINUTE', { infer: true }) ?? (test ? 0 : 120),
  };
}

/** The throttler guard for HTTP requests only: global guards also run for message handlers, which have no IP. */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  /** Skips everything that is not an HTTP request. */
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(context.getType() !== 'http');
  }
}
/** Name of the `RateLimitModule` policy of `GET /catalog/search` (`@RateLimit({ policy: SEARCH_RATE_LIMIT })`). */
export const SEARCH_RATE_LIMIT = 'search';

/**
 * Per-IP rate limits of the reference service with @nestjs/throttler, counted in Redis
 * ({@link RedisThrottlerStorage}: shared by every instance, fails open when Redis is down):
 * `default` on every route (RATE_LIMIT_PER_MINUTE) and `login` on POST /auth/login
 * (LOGIN_RATE_LIMIT_PER_MINUTE). 0 turns a limit off. Over the limit: 429 with Retry-After.
 * And `RateLimitModule`: the `search` policy of `GET /catalog/search` (SEARCH_RATE_LIMIT_PER_MINUTE per IP, a sliding
 * window, with the IETF `RateLimit` headers; fails open like the throttler).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, RedisService],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisService) => {
        const { perMinute, loginPerMinute } = rateLimits(config);
        const throttlers: ThrottlerOptions[] = [];
        if (perMinute > 0) throttlers.push({ name: 'default', ttl: 60_000, limit: perMinute });
        if (loginPerMinute > 0) {
          throttlers.push({
            name: 'login',
            ttl: 60_000,
            limit: loginPerMinute,
            skipIf: (ctx) => {
              const req = ctx.switchToHttp().getRequest<Request>();
              const path = (req.route as { path?: string } | undefined)?.path ?? req.path;
              return !LOGIN_ROUTES.has(`${req.method} ${path}`);
            },
          });
        }
        return { throttlers, storage: new RedisThrottlerStorage(redis) };
      },
    }),
    RateLimitModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const { searchPerMinute } = rateLimits(config);
        return {
          guard: searchPerMinute > 0,
          policies: {
            [SEARCH_RATE_LIMIT]: { algorithm: 'sliding-window', limit: Math.max(1, searchPerMinute), windowMs: 60_000 },
          },
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: HttpThrottlerGuard }],
})
export class SecurityModule {}
