import { Injectable, SetMetadata } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
} from '../core/method-decorators';
import { check } from '../core/option-checker';
import { CACHEABLE_METADATA } from './cache.constants';
import type { GetOrSetOptions } from './cache.service';
import { CacheDecoratorHandler } from './cache-decorator.handler';
import { checkKeyFromArgs, valuesFor, type CacheKeyFromArgs } from './cache-decorator.options';

/** Options of {@link Cacheable}. The method's arguments are passed to `key` (and to `tags` when it is a function). */
export interface CacheableOptions<A extends unknown[] = unknown[]>
  extends Omit<GetOrSetOptions, 'tags'>, CacheKeyFromArgs<A> {}

/**
 * Caches the result of an async provider method with `CacheService.getOrSet` (single-flight, negative
 * caching, tags...): on a hit the method is not called. Only stores metadata; the library's method explorer wraps
 * the method at module initialisation (inside `@WithLock`, `@CacheEvict` and `@CachePut` on the same method).
 * Works on providers (not on controller route handlers: use the CacheInterceptor there).
 *
 * ```ts
 * @Cacheable({ key: (id: number) => `price:${id}`, ttlMs: 10_000, tags: ['prices'] })
 * async price(id: number): Promise<Price | null> { ... }
 * ```
 */
export function Cacheable<A extends unknown[] = unknown[]>(options: CacheableOptions<A>): MethodDecorator {
  return SetMetadata(CACHEABLE_METADATA, options);
}

/** Wraps `@Cacheable` methods in `CacheService.getOrSet`. Internal: provided by RedisCacheModule. */
@MethodDecoratorHandlerProvider()
@Injectable()
export class CacheableHandler extends CacheDecoratorHandler<CacheableOptions> {
  readonly decorator = '@Cacheable';
  readonly metadataKey = CACHEABLE_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.cacheable;

  /** Checks the options once, at startup, naming the method. */
  validate(options: CacheableOptions, target: DecoratedMethod): void {
    const path = this.optionsOf(target);
    checkKeyFromArgs(path, options);
    for (const name of ['ttlMs', 'jitterMs', 'staleWhileRevalidateMs', 'negativeTtlMs'] as const) {
      check.durationMs(`${path}.${name}`, options[name]);
    }
  }

  /** `next` answered from the cache, called only on a miss. */
  wrap(next: AnyMethod, options: CacheableOptions): AnyMethod {
    const cache = this.cache;
    const { key, tags, ...rest } = options;
    return function cacheable(this: unknown, ...args: unknown[]) {
      return cache.getOrSet(key(...args), () => next.apply(this, args), { ...rest, tags: valuesFor(tags, args) });
    };
  }
}
