import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CacheModule } from '@nestjs/cache-manager';
import type { Keyv } from 'keyv';
import { RedisService } from '../redis/redis.service';
import { CacheEvictHandler } from './cache-evict.decorator';
import { CachePutHandler } from './cache-put.decorator';
import { CacheRedis } from './cache-redis';
import { CacheableHandler } from './cacheable.decorator';
import { CACHE_KEYV, CACHE_MODULE_OPTIONS } from './cache.constants';
import { CacheKeys } from './cache.keys';
import { CacheKeyspace } from './cache.keyspace';
import { CacheMetrics } from './cache.metrics';
import {
  CACHE_ASYNC_OPTIONS_TYPE,
  CACHE_OPTIONS_TYPE,
  CacheConfigurableModule,
  type RedisCacheModuleExtras,
} from './cache.module-definition';
import { resolveCacheOptions, type RedisCacheModuleOptions } from './cache.options';
import { CacheService } from './cache.service';
import { CacheCounters } from './cache.stats';
import { CacheTags } from './cache.tags';
import { createRedisKeyv } from './redis-keyv.factory';
import { RedisKeyvStore } from './redis-keyv.store';
import { UserAwareCacheInterceptor } from './user-aware-cache.interceptor';

/** Raw options token of the builder; the validated options live under CACHE_MODULE_OPTIONS. */
const RAW_OPTIONS = 'nest-redis-kit:cache:raw-options';

const coreProviders: Provider[] = [
  {
    provide: CACHE_MODULE_OPTIONS,
    inject: [RAW_OPTIONS],
    useFactory: (raw: RedisCacheModuleOptions) => resolveCacheOptions(raw),
  },
  {
    provide: CacheKeys,
    inject: [RedisService],
    useFactory: (redis: RedisService) => new CacheKeys(redis.prefixFor('cache')),
  },
  CacheCounters,
  CacheRedis,
  CacheTags,
  CacheKeyspace,
  RedisKeyvStore,
  {
    // A store of its own: a user's `new Keyv({ store })` on the injected RedisKeyvStore sets that store's namespace.
    provide: CACHE_KEYV,
    inject: [RedisKeyvStore, CACHE_MODULE_OPTIONS],
    useFactory: (store: RedisKeyvStore, o: ReturnType<typeof resolveCacheOptions>): Keyv =>
      createRedisKeyv(store.clone(), o.defaultTtlMs),
  },
  CacheService,
  CacheableHandler,
  CacheEvictHandler,
  CachePutHandler,
  UserAwareCacheInterceptor,
  CacheMetrics,
];

const coreExports = [CACHE_MODULE_OPTIONS, CACHE_KEYV, RedisKeyvStore, CacheService, UserAwareCacheInterceptor];

/** Internal: the store, CacheService and the decorator handlers, built from the options. */
@Module({})
class RedisCacheCoreModule {}

function rename(definition: DynamicModule): DynamicModule {
  // The builder provides the raw options under CACHE_MODULE_OPTIONS; move them to RAW_OPTIONS.
  const providers = (definition.providers ?? []).map((p) =>
    typeof p === 'object' && 'provide' in p && p.provide === CACHE_MODULE_OPTIONS ? { ...p, provide: RAW_OPTIONS } : p,
  );
  return {
    module: RedisCacheCoreModule,
    imports: definition.imports ?? [],
    providers: [...providers, ...coreProviders],
    exports: coreExports,
  };
}

function compose(core: DynamicModule, isGlobal: boolean): DynamicModule {
  const cacheManager = CacheModule.registerAsync({
    isGlobal,
    imports: [core],
    inject: [CACHE_KEYV, CACHE_MODULE_OPTIONS],
    useFactory: (keyv: Keyv, o: ReturnType<typeof resolveCacheOptions>) => ({ stores: [keyv], ttl: o.defaultTtlMs }),
  });
  return {
    module: RedisCacheModule,
    global: isGlobal,
    imports: [core, cacheManager],
    exports: [core, cacheManager],
  };
}

/**
 * Caching on the shared RedisModule client (no connection of its own). Registers @nestjs/cache-manager with
 * a Keyv store on Redis, so `CACHE_MANAGER`, `CacheInterceptor`, `@CacheKey` and `@CacheTTL` work as usual,
 * and provides {@link CacheService} (getOrSet, tags, stats), `@Cacheable` / `@CacheEvict` / `@CachePut` and
 * {@link UserAwareCacheInterceptor}. Global by default.
 */
@Module({})
export class RedisCacheModule extends CacheConfigurableModule {
  /** Configures the cache from static options. */
  static override forRoot(options: typeof CACHE_OPTIONS_TYPE = {}): DynamicModule {
    const { isGlobal = true } = options as RedisCacheModuleExtras;
    resolveCacheOptions(options); // fail at startup (RedisConfigError) rather than at first use
    return compose(rename(super.forRoot(options)), isGlobal);
  }

  /** Configures the cache from a factory (e.g. ConfigService); the options are validated when resolved. */
  static override forRootAsync(options: typeof CACHE_ASYNC_OPTIONS_TYPE): DynamicModule {
    const { isGlobal = true } = options as RedisCacheModuleExtras;
    return compose(rename(super.forRootAsync(options)), isGlobal);
  }
}
