import { Injectable, SetMetadata } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
} from '../core/method-decorators';
import { check } from '../core/option-checker';
import { CACHE_EVICT_METADATA } from './cache.constants';
import { CacheDecoratorHandler } from './cache-decorator.handler';
import { checkListOption, valuesFor, type FixedOrFromArgs } from './cache-decorator.options';

/** Options of {@link CacheEvict}: keys and/or tags, fixed or computed from the method's arguments. */
export interface CacheEvictOptions<A extends unknown[] = unknown[]> {
  /** Keys to evict, e.g. `(id: number) => [\`user:${id}\`]`. */
  keys?: FixedOrFromArgs<A>;
  /** Tags to invalidate. */
  tags?: FixedOrFromArgs<A>;
}

/**
 * Evicts keys and/or invalidates tags after the async provider method succeeds (nothing is evicted when it
 * throws). While Redis is down the eviction is skipped (entries then live until their TTL) and the method's result
 * is still returned. Only stores metadata; the library's method explorer wraps the method at module initialisation.
 *
 * ```ts
 * @CacheEvict({ keys: (id: number) => [`product:${id}`], tags: ['listing'] })
 * async update(id: number, patch: ProductPatch): Promise<Product> { ... }
 * ```
 */
export function CacheEvict<A extends unknown[] = unknown[]>(options: CacheEvictOptions<A>): MethodDecorator {
  return SetMetadata(CACHE_EVICT_METADATA, options);
}

/** Runs `@CacheEvict` after the method succeeded. Internal: provided by RedisCacheModule. */
@MethodDecoratorHandlerProvider()
@Injectable()
export class CacheEvictHandler extends CacheDecoratorHandler<CacheEvictOptions> {
  readonly decorator = '@CacheEvict';
  readonly metadataKey = CACHE_EVICT_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.cacheEvict;

  /** Checks the options once, at startup, naming the method. */
  validate(options: CacheEvictOptions, target: DecoratedMethod): void {
    const path = this.optionsOf(target);
    checkListOption(`${path}.keys`, options.keys);
    checkListOption(`${path}.tags`, options.tags);
    if (options.keys === undefined && options.tags === undefined) check.fail(path, 'needs keys, tags or both');
  }

  /** `next`, then the eviction. */
  wrap(next: AnyMethod, options: CacheEvictOptions): AnyMethod {
    const cache = this.cache;
    return async function evicting(this: unknown, ...args: unknown[]) {
      const result = await next.apply(this, args);
      const keys = valuesFor(options.keys, args);
      const tags = valuesFor(options.tags, args);
      if (keys?.length) await cache.delete(...keys);
      if (tags?.length) await cache.invalidateTags(tags);
      return result;
    };
  }
}
