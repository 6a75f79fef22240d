import { Injectable, Logger, SetMetadata } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from '../core/method-decorators';
import { check } from '../core/option-checker';
import { CACHE_PUT_METADATA } from './cache.constants';
import { CacheSerializationError } from './cache.errors';
import { CacheService } from './cache.service';
import { checkKeyFunction, checkListOption, valuesFor, type FixedOrFromArgs } from './cache-decorator.options';

/** Options of {@link CachePut}. The method's arguments are passed to `key` (and to `tags` when it is a function). */
export interface CachePutOptions<A extends unknown[] = unknown[]> {
  /** Cache key from the method's arguments, e.g. `(id: number) => \`user:${id}\``. */
  key: (...args: A) => string;
  /** TTL of the stored result in milliseconds (default: the module's `defaultTtlMs`). */
  ttlMs?: number;
  /** Tags the stored entry carries, fixed or from the arguments. */
  tags?: FixedOrFromArgs<A>;
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
export class CachePutHandler implements MethodDecoratorHandler<CachePutOptions> {
  readonly decorator = '@CachePut';
  readonly metadataKey = CACHE_PUT_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.cachePut;
  private readonly logger = new Logger('Cache');

  constructor(private readonly cache: CacheService) {}

  /** Checks the options once, at startup, naming the method. */
  validate(options: CachePutOptions, target: DecoratedMethod): void {
    const path = `@CachePut(${target.label})`;
    checkKeyFunction(`${path}.key`, options.key);
    check.durationMs(`${path}.ttlMs`, options.ttlMs, { min: 1 });
    checkListOption(`${path}.tags`, options.tags);
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
