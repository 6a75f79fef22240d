import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from './method-decorators';

/** A handler and the metadata it found on one method. */
interface Found {
  handler: MethodDecoratorHandler;
  metadata: unknown;
}

/**
 * The one method explorer of the library. At module initialisation it finds the handlers the features
 * contributed ({@link MethodDecoratorHandlerProvider}), scans every singleton provider and controller once, reads
 * each handler's metadata from the original prototype method, and per method: validates, composes the wrapping
 * decorators in their fixed order (lower order outside), puts the composed function on the instance (with the
 * original's metadata copied onto it, so guards, interceptors and other readers still see it), and hands the
 * composed method to the listening decorators. A request-scoped provider with library decorators is skipped with
 * a warning naming the method (there is no single instance to wrap).
 */
@Injectable()
export class LibraryMethodExplorer implements OnModuleInit {
  private readonly logger = new Logger('nest-redis-kit');
  private done = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Wraps and binds every decorated method (once per application). */
  onModuleInit(): void {
    if (this.done) return;
    this.done = true;
    const handlers = this.discovery
      .getProviders({ metadataKey: MethodDecoratorHandlerProvider.KEY })
      .map((w) => w.instance as MethodDecoratorHandler | undefined)
      .filter((h): h is MethodDecoratorHandler => !!h && typeof h.metadataKey === 'string');
    if (handlers.length === 0) return;
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (!prototype || handlers.includes(instance as unknown as MethodDecoratorHandler)) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const original = prototype[methodName];
        if (typeof original !== 'function') continue;
        const found = handlers
          .map((handler): Found => ({ handler, metadata: Reflect.getMetadata(handler.metadataKey, original) }))
          .filter((f) => f.metadata !== undefined);
        if (found.length === 0) continue;
        const label = `${prototype.constructor?.name ?? 'Object'}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(
            `${found.map((f) => f.handler.decorator).join(', ')} on ${label} ignored: the provider is request-scoped ` +
              '(or depends on one), so there is no single instance to wrap; make it a singleton',
          );
          continue;
        }
        this.apply(instance, { instance, methodName, label, original: original as AnyMethod }, found);
      }
    }
  }

  private apply(instance: Record<string, unknown>, target: DecoratedMethod, found: Found[]): void {
    for (const { handler, metadata } of found) handler.validate?.(metadata, target);
    const wrappers = found.filter((f) => f.handler.wrap).sort((a, b) => b.handler.order - a.handler.order);
    let composed = target.original;
    for (const { handler, metadata } of wrappers) {
      composed = (handler.wrap as NonNullable<MethodDecoratorHandler['wrap']>)(composed, metadata, target);
    }
    if (composed !== target.original) {
      for (const key of Reflect.getMetadataKeys(target.original) as unknown[]) {
        Reflect.defineMetadata(key, Reflect.getMetadata(key, target.original), composed);
      }
      Object.defineProperty(composed, 'name', { value: target.methodName });
      instance[target.methodName] = composed;
    }
    const bound = composed.bind(instance) as AnyMethod;
    for (const { handler, metadata } of found) handler.bind?.(bound, metadata, target);
  }
}
