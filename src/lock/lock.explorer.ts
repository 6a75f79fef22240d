import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { WITH_LOCK_METADATA } from './lock.constants';
import { checkDuration, renderTemplate } from './lock.keys';
import { LockOptionsError } from './lock.errors';
import { LockService } from './lock.service';
import type { WithLockMetadata } from './with-lock.decorator';

/** Finds `@WithLock` methods on providers at startup and wraps them in `LockService.using()`. */
@Injectable()
export class LockExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly locks: LockService,
  ) {}

  /** Wraps every decorated method (before the application serves requests). */
  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const original = instance[name];
        if (typeof original !== 'function') continue;
        const meta = this.reflector.get<WithLockMetadata | undefined>(WITH_LOCK_METADATA, original);
        if (!meta) continue;
        this.check(meta, `${prototype.constructor.name}.${name}`);
        const locks = this.locks;
        instance[name] = function (this: unknown, ...args: unknown[]): Promise<unknown> {
          let resources: string[];
          try {
            resources = meta.templates.map((t) => renderTemplate(t, args));
          } catch (err) {
            return Promise.reject(err);
          }
          return locks.using(
            resources,
            () => (original as (...a: unknown[]) => unknown).apply(this, args),
            meta.options,
          );
        };
      }
    }
  }

  private check(meta: WithLockMetadata, where: string): void {
    if (meta.templates.length === 0 || meta.templates.some((t) => typeof t !== 'string' || t.trim() === '')) {
      throw new LockOptionsError('resources', `@WithLock on ${where}: give at least one non-empty template`);
    }
    try {
      checkDuration('ttlMs', meta.options.ttlMs, false);
      checkDuration('waitMs', meta.options.waitMs, true);
    } catch (err) {
      throw new LockOptionsError((err as LockOptionsError).option, `@WithLock on ${where}: ${(err as Error).message}`);
    }
  }
}
