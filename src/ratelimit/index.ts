export { RateLimitModule } from './ratelimit.module';
export { RateLimitService, type RateLimitStats, type RateLimitPolicyRef } from './rate-limit.service';
export { RateLimiter } from './rate-limiter';
export {
  RateLimit,
  type RateLimitKey,
  type RateLimitKeyFunction,
  type RateLimitMetadata,
  type RateLimitOptions,
} from './rate-limit.decorator';
export { RateLimitGuard } from './rate-limit.guard';
export type { RateLimitDecision } from './ratelimit.decision';
export {
  RateLimitArgumentError,
  RateLimitExceededError,
  RateLimitExceededException,
  RateLimitUnavailableException,
} from './ratelimit.errors';
export { rateLimitHeaders, retryAfterHeader } from './ratelimit.headers';
export { RATE_LIMIT_METADATA, RATE_LIMIT_MODULE_OPTIONS } from './ratelimit.constants';
export {
  MAX_RATE_LIMIT,
  RATE_LIMIT_ALGORITHMS,
  resolveRateLimitOptions,
  resolveRateLimitPolicy,
  type RateLimitAlgorithm,
  type RateLimitModuleOptions,
  type RateLimitPolicy,
  type ResolvedRateLimitOptions,
  type ResolvedRateLimitPolicy,
} from './ratelimit.options';
export type { RateLimitModuleExtras } from './ratelimit.module-definition';
