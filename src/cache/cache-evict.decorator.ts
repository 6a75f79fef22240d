import { SetMetadata } from '@nestjs/common';
import { CACHE_EVICT_METADATA } from './cache.constants';

/** Options of {@link CacheEvict}: keys and/or tags, fixed or computed from the method's arguments and result. */
export interface CacheEvictOptions<A extends unknown[] = unknown[]> {
  /** Keys to evict, e.g. `(id: number) => [\`user:${id}\`]`. */
  keys?: readonly string[] | ((...args: A) => readonly string[]);
  /** Tags to invalidate. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

/**
 * Evicts keys and/or invalidates tags after the async provider method succeeds (nothing is evicted when it
 * throws). Only stores metadata; RedisCacheModule wraps the method at application bootstrap.
 */
export function CacheEvict<A extends unknown[] = unknown[]>(options: CacheEvictOptions<A>): MethodDecorator {
  return SetMetadata(CACHE_EVICT_METADATA, options);
}
