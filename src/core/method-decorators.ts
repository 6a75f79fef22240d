import { DiscoveryService } from '@nestjs/core';

/** Any method of a provider. */
export type AnyMethod = (...args: unknown[]) => unknown;

/** A decorated method found at startup, as handlers see it. */
export interface DecoratedMethod {
  /** The provider (or controller) instance. */
  readonly instance: object;
  /** The method's name on it. */
  readonly methodName: string;
  /** `Class.method`, for messages. */
  readonly label: string;
  /** The method as written (the prototype's, carrying the decorators' metadata). */
  readonly original: AnyMethod;
}

/**
 * What one library method decorator does, contributed by its feature (a provider marked with
 * {@link MethodDecoratorHandlerProvider}). The decorator itself only stores metadata under `metadataKey` on the
 * method; the one {@link LibraryMethodExplorer} reads it from the original prototype method and composes every
 * library decorator of a method in the fixed {@link METHOD_DECORATOR_ORDER}, whatever order they were written in.
 */
export interface MethodDecoratorHandler<M = unknown> {
  /** The decorator as a user writes it, for messages: `@WithLock`. */
  readonly decorator: string;
  /** The metadata key its decorator stores on the method. */
  readonly metadataKey: string;
  /** Its place: wrappers with a lower order run outside those with a higher one ({@link METHOD_DECORATOR_ORDER}). */
  readonly order: number;
  /** Checks the metadata at startup; throws an error naming `target.label` when it is unusable. */
  validate?(metadata: M, target: DecoratedMethod): void;
  /** A wrapping decorator: returns `next` wrapped (called with the instance as `this`). */
  wrap?(next: AnyMethod, metadata: M, target: DecoratedMethod): AnyMethod;
  /**
   * A listening decorator (a subscription, a consumer): receives the method with every wrapper applied, bound to
   * its instance. Called during module initialisation: start listening in `onApplicationBootstrap`, not here.
   */
  bind?(method: AnyMethod, metadata: M, target: DecoratedMethod): void;
}

/**
 * The composition order of the library's wrapping decorators (lower = outer). On one method:
 * the lock is taken first, eviction and write-through run inside it after the method succeeded, and the cache
 * lookup is innermost, so a method with `@WithLock` and `@Cacheable` loads under the lock only on a miss.
 * Listening decorators (`@OnMessage`, `@StreamConsumer`) receive the fully wrapped method.
 */
export const METHOD_DECORATOR_ORDER = {
  /** `@WithLock`. */
  lock: 100,
  /** `@CacheEvict`. */
  cacheEvict: 200,
  /** `@CachePut`. */
  cachePut: 300,
  /** `@Cacheable`. */
  cacheable: 400,
  /** Listening decorators (order among them does not matter). */
  listener: 1000,
} as const;

/** Marks a provider class as a {@link MethodDecoratorHandler} for the explorer to find. */
export const MethodDecoratorHandlerProvider = DiscoveryService.createDecorator<void>();
