import { Injectable } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from '../core';
import { WITH_LOCK_METADATA } from './lock.constants';
import { renderTemplate } from './lock.keys';
import { checkLockCall, lockArguments } from './lock.options';
import { LockService } from './lock.service';
import type { WithLockMetadata } from './with-lock.decorator';

/**
 * What `@WithLock` does, for the library's method explorer: at startup it checks the templates and options of each
 * decorated method (a `LockOptionsError` naming `@WithLock(Class.method)`); at each call it fills the templates from
 * the arguments and runs the method under the lock (`LockService.using()` semantics). Outermost of the library's
 * decorators: eviction and caching on the same method run inside the lock.
 */
@MethodDecoratorHandlerProvider()
@Injectable()
export class WithLockHandler implements MethodDecoratorHandler<WithLockMetadata> {
  /** See {@link MethodDecoratorHandler.decorator}. */
  readonly decorator = '@WithLock';
  /** See {@link MethodDecoratorHandler.metadataKey}. */
  readonly metadataKey = WITH_LOCK_METADATA;
  /** See {@link MethodDecoratorHandler.order}. */
  readonly order = METHOD_DECORATOR_ORDER.lock;

  constructor(private readonly locks: LockService) {}

  /** Refuses a method with no usable template or with bad lock options. */
  validate(metadata: WithLockMetadata, target: DecoratedMethod): void {
    const where = `@WithLock(${target.label}).`;
    const { templates, options } = metadata;
    if (templates.length === 0 || templates.some((t) => typeof t !== 'string' || t.trim() === '')) {
      lockArguments.fail(`${where}resources`, 'give at least one non-empty template');
    }
    checkLockCall(options, where);
  }

  /** The method under its lock. */
  wrap(next: AnyMethod, metadata: WithLockMetadata): AnyMethod {
    const locks = this.locks;
    const { templates, options } = metadata;
    return function (this: unknown, ...args: unknown[]): Promise<unknown> {
      let resources: string[];
      try {
        resources = templates.map((t) => renderTemplate(t, args));
      } catch (err) {
        return Promise.reject(err);
      }
      return locks.runLocked(resources, options, () => next.apply(this, args));
    };
  }
}
