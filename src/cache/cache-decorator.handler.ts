import { Injectable } from '@nestjs/common';
import type { AnyMethod, DecoratedMethod, MethodDecoratorHandler } from '../core/method-decorators';
import { CacheService } from './cache.service';

/**
 * What the handlers of `@Cacheable`, `@CacheEvict` and `@CachePut` share: the CacheService they call, and the
 * dotted path that names a method's decorator options in startup errors (`@CachePut(Users.rename).key`).
 */
@Injectable()
export abstract class CacheDecoratorHandler<M> implements MethodDecoratorHandler<M> {
  /** The decorator as a user writes it, e.g. `@CachePut`. */
  abstract readonly decorator: string;
  /** The metadata key its decorator stores on the method. */
  abstract readonly metadataKey: string;
  /** Its place in `METHOD_DECORATOR_ORDER`. */
  abstract readonly order: number;

  constructor(protected readonly cache: CacheService) {}

  /** Checks the options once, at startup; throws a RedisConfigError naming the method and the option. */
  abstract validate(options: M, target: DecoratedMethod): void;

  /** `next` with the decorator's behaviour around it. */
  abstract wrap(next: AnyMethod, options: M, target: DecoratedMethod): AnyMethod;

  /** `@CachePut(Users.rename)`: the start of the option paths of one decorated method. */
  protected optionsOf(target: DecoratedMethod): string {
    return `${this.decorator}(${target.label})`;
  }
}
