/** Injection token of the RateLimitModule options (as given; resolved by RateLimitService at startup). */
export const RATE_LIMIT_MODULE_OPTIONS = 'nest-redis-kit:ratelimit:options';

/** Metadata key set by `@RateLimit` on a handler or a controller. */
export const RATE_LIMIT_METADATA = 'nest-redis-kit:ratelimit:limits';
