import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CACHE_EVICT_METADATA, CACHEABLE_METADATA } from './cache.constants';
import type { CacheEvictOptions } from './cache-evict.decorator';
import type { CacheableOptions } from './cacheable.decorator';
import { CacheService } from './cache.service';

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * Finds `@Cacheable` / `@CacheEvict` methods on every singleton provider at bootstrap (DiscoveryService +
 * MetadataScanner, the way @nestjs/event-emitter finds `@OnEvent`) and wraps them on the instance.
 */
@Injectable()
export class CacheDecoratorsExplorer implements OnApplicationBootstrap {
  private readonly logger = new Logger('Cache');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
  ) {}

  /** Wraps the decorated methods. */
  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const proto = Object.getPrototypeOf(instance) as object | null;
      if (!proto) continue;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const method = instance[name];
        if (typeof method !== 'function') continue;
        const cacheable = this.reflector.get<CacheableOptions | undefined>(CACHEABLE_METADATA, method);
        const evict = this.reflector.get<CacheEvictOptions | undefined>(CACHE_EVICT_METADATA, method);
        if (!cacheable && !evict) continue;
        let fn = method as AnyMethod;
        if (cacheable) fn = this.wrapCacheable(fn, cacheable);
        if (evict) fn = this.wrapEvict(fn, evict);
        instance[name] = fn;
        this.logger.debug?.(
          `Wrapped ${wrapper.name}.${name} (${cacheable ? '@Cacheable' : ''}${evict ? '@CacheEvict' : ''})`,
        );
      }
    }
  }

  private wrapCacheable(original: AnyMethod, options: CacheableOptions): AnyMethod {
    const cache = this.cache;
    const { key, tags, ...rest } = options;
    return function cacheable(this: unknown, ...args: unknown[]) {
      const resolvedTags = typeof tags === 'function' ? tags(...args) : tags;
      return cache.getOrSet(key(...args), () => original.apply(this, args), { ...rest, tags: resolvedTags });
    };
  }

  private wrapEvict(original: AnyMethod, options: CacheEvictOptions): AnyMethod {
    const cache = this.cache;
    return async function evicting(this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      const keys = typeof options.keys === 'function' ? options.keys(...args) : options.keys;
      const tags = typeof options.tags === 'function' ? options.tags(...args) : options.tags;
      if (keys?.length) await cache.delete(...keys);
      if (tags?.length) await cache.invalidateTags(tags);
      return result;
    };
  }
}
