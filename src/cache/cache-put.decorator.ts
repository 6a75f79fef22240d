import { Injectable, Logger, SetMetadata } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
} from '../core/method-decorators';
import { check } from '../core/option-checker';
import { CACHE_PUT_METADATA } from './cache.constants';
import { CacheSerializationError } from './cache.errors';
import { CacheDecoratorHandler } from './cache-decorator.handler';
import { checkKeyFromArgs, valuesFor, type CacheKeyFromArgs } from './cache-decorator.options';

/** Options of {@link CachePut}. The method's arguments are passed to `key` (and to `tags` when it is a function). */
export interface CachePutOptions<A extends unknown[] = unknown[]> extends CacheKeyFromArgs<A> {
  /** TTL of the stored result in milliseconds (default: the module's `defaultTtlMs`). */
  ttlMs?: number;
}

/**
 * Write-through: after the async provider method succeeds, stores its result under `key` (as `CacheService.set`
 * does), so that the next `getOrSet` / `@Cacheable` read of that key is a hit with the new value. The method always
 * runs (unlike `@Cacheable`) and its result is always returned: when Redis is down the write is skipped (like every
 * cache write), and a result without a JSON form is logged as a {@link CacheSerializationError} and not stored.
 * Nothing is stored when the method throws. Only stores metadata; the library's method explorer wraps the method at
 * module initialisation (inside `@WithLock` and `@CacheEvict`, outside `@Cacheable`).
 *
 * ```ts
 * @CachePut({ key: (id: number) => `user:${id}`, ttlMs: 60_000, tags: ['users'] })
 * async rename(id: number, name: string): Promise<User> {
 *   return this.db.updateUser(id, { name }); // the updated user is cached under user:<id>
 * }
 * ```
 */
export function CachePut<A extends unknown[] = unknown[]>(options: CachePutOptions<A>): MethodDecorator {
  return SetMetadata(CACHE_PUT_METADATA, options);
}

/** Stores the result of `@CachePut` methods. Internal: provided by RedisCacheModule. */
@MethodDecoratorHandlerProvider()
@Injectable()
export class CachePutHandler extends CacheDecoratorHandler<CachePutOptions> {
  readonly decorator = '@CachePut';
  readonly metadataKey = CACHE_PUT_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.cachePut;
  private readonly logger = new Logger('Cache');

  /** Checks the options once, at startup, naming the method. */
  validate(options: CachePutOptions, target: DecoratedMethod): void {
    const path = this.optionsOf(target);
    checkKeyFromArgs(path, options);
    check.durationMs(`${path}.ttlMs`, options.ttlMs, { min: 1 });
  }

  /** `next`, then the write of its result. */
  wrap(next: AnyMethod, options: CachePutOptions, target: DecoratedMethod): AnyMethod {
    const { cache, logger } = this;
    const { key, ttlMs, tags } = options;
    return async function cachePut(this: unknown, ...args: unknown[]) {
      const result = await next.apply(this, args);
      try {
        await cache.set(key(...args), result, { ttlMs, tags: valuesFor(tags, args) });
      } catch (err) {
        if (!(err instanceof CacheSerializationError)) throw err;
        logger.error(`@CachePut on ${target.label}: result not cached: ${err.message}`);
      }
      return result;
    };
  }
}
