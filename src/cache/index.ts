export { RedisCacheModule } from './cache.module';
export {
  CacheService,
  type GetOrSetOptions,
  type CacheSetOptions,
  type CacheResult,
  type CacheStatus,
} from './cache.service';
export { RedisKeyvStore } from './redis-keyv.store';
export { createRedisKeyv } from './redis-keyv.factory';
export { Cacheable, type CacheableOptions } from './cacheable.decorator';
export { CacheEvict, type CacheEvictOptions } from './cache-evict.decorator';
export { CachePut, type CachePutOptions } from './cache-put.decorator';
export { UserAwareCacheInterceptor, isPrivateRequest } from './user-aware-cache.interceptor';
export { CacheKeyError, CacheSerializationError } from './cache.errors';
export { CACHE_MODULE_OPTIONS, CACHE_KEYV } from './cache.constants';
export type { CacheStats } from './cache.stats';
export type { RedisCacheModuleOptions, NearCacheOptions, ResolvedCacheOptions } from './cache.options';
export type { RedisCacheModuleExtras } from './cache.module-definition';
