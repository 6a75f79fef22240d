import { Module, type DynamicModule } from '@nestjs/common';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';
import { RateLimitMetrics } from './ratelimit.metrics';
import { RateLimitConfigurableModule, RATE_LIMIT_OPTIONS_TYPE } from './ratelimit.module-definition';

/**
 * Rate limits on the shared Redis provider: `RateLimitService` (`consume(policy, key, cost)`) and `@RateLimit` on
 * routes. Needs RedisModule. Global by default, so any module's controllers and services can use it.
 *
 * ```ts
 * RateLimitModule.forRoot({ timeoutMs: 250, policies: { login: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000 } } })
 * ```
 */
@Module({
  providers: [RateLimitService, RateLimitGuard, RateLimitMetrics],
  exports: [RateLimitService, RateLimitGuard],
})
export class RateLimitModule extends RateLimitConfigurableModule {
  /** The module with `options` (every one optional: `RateLimitModule.forRoot()` works). */
  static override forRoot(options: typeof RATE_LIMIT_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
