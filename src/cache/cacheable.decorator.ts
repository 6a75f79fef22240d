import { SetMetadata } from '@nestjs/common';
import { CACHEABLE_METADATA } from './cache.constants';
import type { GetOrSetOptions } from './cache.service';

/** Options of {@link Cacheable}. The method's arguments are passed to `key` (and to `tags` when it is a function). */
export interface CacheableOptions<A extends unknown[] = unknown[]> extends Omit<GetOrSetOptions, 'tags'> {
  /** Cache key from the method's arguments, e.g. `(id: number) => \`user:${id}\``. */
  key: (...args: A) => string;
  /** Tags, fixed or from the arguments. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

/**
 * Caches the result of an async provider method with `CacheService.getOrSet` (single-flight, negative
 * caching, tags...). Only stores metadata; RedisCacheModule wraps the method at application bootstrap.
 * Works on providers (not on controller route handlers: use the CacheInterceptor there).
 */
export function Cacheable<A extends unknown[] = unknown[]>(options: CacheableOptions<A>): MethodDecorator {
  return SetMetadata(CACHEABLE_METADATA, options);
}
