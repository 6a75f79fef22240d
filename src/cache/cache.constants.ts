/** Injection token of the validated RedisCacheModule options. */
export const CACHE_MODULE_OPTIONS = 'nest-redis-kit:cache:options';

/** Injection token of the Keyv instance (backed by {@link RedisKeyvStore}) given to @nestjs/cache-manager. */
export const CACHE_KEYV = 'nest-redis-kit:cache:keyv';

/** Metadata key of `@Cacheable`. */
export const CACHEABLE_METADATA = 'nest-redis-kit:cache:cacheable';

/** Metadata key of `@CacheEvict`. */
export const CACHE_EVICT_METADATA = 'nest-redis-kit:cache:evict';

/** Metadata key of `@CachePut`. */
export const CACHE_PUT_METADATA = 'nest-redis-kit:cache:put';
