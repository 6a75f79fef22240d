import { SetMetadata } from '@nestjs/common';
import { WITH_LOCK_METADATA } from './lock.constants';
import type { UsingOptions } from './lock.options';

/** What `@WithLock` records on a method. */
export interface WithLockMetadata {
  /** Resource templates, e.g. `inventory:{0}` or `order:{0.id}`. */
  templates: string[];
  /** Lock options (ttlMs, waitMs, autoExtend...); module defaults fill the rest. */
  options: UsingOptions;
}

/**
 * Runs the decorated provider method under a distributed lock (LockService.using): `{0}` in a template is the
 * first argument, `{1.sku}` the `sku` of the second. Only stores metadata: the library's method explorer wraps the
 * method at startup (`WithLockHandler`), outside the other library decorators on it (`@CacheEvict`,
 * `@Cacheable`...), whatever order they are written in. Put it on the service method a controller calls.
 * Inside the method, `LockService.current()` gives the handle (e.g. its fencing token).
 * @param resources one template or several (all locked together)
 * @param options ttlMs (lease, ms), waitMs (how long to wait for a busy lock, ms), autoExtend (default true)
 */
export function WithLock(resources: string | string[], options: UsingOptions = {}): MethodDecorator {
  const templates = typeof resources === 'string' ? [resources] : [...resources];
  return SetMetadata<string, WithLockMetadata>(WITH_LOCK_METADATA, { templates, options });
}
