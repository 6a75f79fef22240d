import { Injectable } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { ExternalContextCreator, ModulesContainer, type ApplicationConfig } from '@nestjs/core';
import type { AnyMethod, DecoratedMethod } from '../core/method-decorators';
import { check } from '../core/option-checker';
import { MESSAGE_CONTEXT_TYPE, type MessageContext } from './message-context';
import { LEGACY_MESSAGE_PARAMS, LEGACY_PARAMS_METADATA, messageParamsFactory } from './message-params.decorator';

/** A message handler as the delivery calls it: the payload, and the envelope (pub/sub) or message (stream). */
export type PipelineHandler<S> = (payload: unknown, second: S) => unknown;

/** What runs around one handler: what Nest calls, its parameter metadata, whether any filter applies. */
interface Plan {
  /** The method (or, for a handler without parameters nor pipes, {@link legacyCall} of it). */
  callback: AnyMethod;
  /** Where its parameter metadata is; undefined: none (the pipeline's arguments are passed as they are). */
  metadataKey: string | undefined;
  filters: boolean;
  /** Whether the class or method declares enhancers of its own. */
  local: boolean;
}

/**
 * Nest's request pipeline for `@OnMessage` and `@StreamConsumer` handlers, built once per handler at startup
 * with Nest's `ExternalContextCreator` (as `@nestjs/microservices` and other transports do): the application's
 * global guards, interceptors, pipes and exception filters, then the handler's class and method ones
 * (`@UseGuards`, `@UseInterceptors`, `@UsePipes`, `@UseFilters`), with `@MessagePayload()` / `@MessageCtx()`
 * parameters. `ExecutionContext.getType()` is {@link MESSAGE_CONTEXT_TYPE}; `switchToRpc().getData()` is the
 * payload and `getContext()` the {@link MessageContext}. Enhancers are collected when the application starts, like
 * Nest's own (request-scoped enhancers do not apply: there is no request).
 *
 * When nothing would run around a handler (no enhancer at any level, no parameter decorator), it is called directly,
 * as before: a message then costs no promise more than the handler's own. A handler on a controller (not a
 * provider) with class or method enhancers is refused at startup: Nest's context creator resolves those only for
 * providers, and a guard must never be skipped silently.
 */
@Injectable()
export class MessagePipeline {
  constructor(
    private readonly contexts: ExternalContextCreator,
    private readonly modules: ModulesContainer,
  ) {}

  /**
   * The function to call for each message of `target`: `direct` itself when nothing runs around the handler,
   * otherwise the pipeline, which gets `[payload, context, second]` and calls the handler with its decorated
   * parameters, or with `(payload, second)` when it has none (the payload through the pipes, if any).
   * Throws {@link RedisConfigError} for a handler on a controller with class or method enhancers.
   * @param decorator the handler's decorator, for the error: `@OnMessage`
   * @param direct the method bound to its instance, with the library's other decorators applied
   * @param toContext the message context of one message, from the delivery's second argument
   */
  handler<S>(
    decorator: string,
    target: DecoratedMethod,
    direct: PipelineHandler<S>,
    toContext: (second: S) => MessageContext,
  ): PipelineHandler<S> {
    const { instance, methodName } = target;
    const callback = (instance as Record<string, unknown>)[methodName] as AnyMethod;
    const plan = this.plan(instance, callback, methodName);
    if (plan?.local && !this.isProvider(instance)) {
      check.fail(
        `${decorator}(${target.label})`,
        'is on a controller, whose guards, interceptors, pipes and filters Nest resolves only for HTTP routes; ' +
          'move the message handler to a provider',
      );
    }
    if (!plan) return direct;
    const run = this.contexts.create(
      instance,
      plan.callback,
      methodName,
      plan.metadataKey,
      messageParamsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: plan.filters },
      MESSAGE_CONTEXT_TYPE,
    );
    return (payload, second) => run(payload, toContext(second), second);
  }

  /** How to run `callback`: undefined when nothing would run around it (call it directly). */
  private plan(instance: object, callback: AnyMethod, methodName: string): Plan | undefined {
    const host = instance.constructor;
    const declared = (key: string) =>
      Reflect.getMetadata(key, host) !== undefined || Reflect.getMetadata(key, callback) !== undefined;
    const config = applicationConfigOf(this.contexts);
    const localFilters = declared(EXCEPTION_FILTERS_METADATA);
    const filters = !config || config.getGlobalFilters().length > 0 || localFilters;
    const local =
      localFilters || declared(GUARDS_METADATA) || declared(INTERCEPTORS_METADATA) || declared(PIPES_METADATA);
    const pipes = !config || config.getGlobalPipes().length > 0 || declared(PIPES_METADATA);
    const enhanced =
      filters || local || pipes || config.getGlobalGuards().length > 0 || config.getGlobalInterceptors().length > 0;
    if (Reflect.getMetadata(ROUTE_ARGS_METADATA, host, methodName) !== undefined) {
      return { callback, metadataKey: ROUTE_ARGS_METADATA, filters, local };
    }
    if (!enhanced) return undefined;
    // No parameter decorators and no pipe: Nest passes its arguments as they are, to a function that drops the
    // context (mapping parameters costs about a third of the pipeline when nothing transforms them).
    if (!pipes) return { callback: legacyCall(callback, methodName), metadataKey: undefined, filters, local };
    if (!Reflect.hasOwnMetadata(LEGACY_PARAMS_METADATA, host, methodName)) {
      Reflect.defineMetadata(LEGACY_PARAMS_METADATA, LEGACY_MESSAGE_PARAMS, host, methodName);
    }
    return { callback, metadataKey: LEGACY_PARAMS_METADATA, filters, local };
  }

  /** True when `instance` is the instance of a provider of some module (not only of a controller). */
  private isProvider(instance: object): boolean {
    for (const moduleRef of this.modules.values()) {
      for (const wrapper of moduleRef.providers.values()) if (wrapper.instance === instance) return true;
    }
    return false;
  }
}

/**
 * `method` called as `(payload, second)` from the pipeline's `(payload, context, second)`, carrying the method's
 * metadata and name (what guards, interceptors and `Reflector` read from `context.getHandler()`).
 */
function legacyCall(method: AnyMethod, methodName: string): AnyMethod {
  const call = function (this: unknown, payload: unknown, _context: unknown, second: unknown): unknown {
    return method.call(this, payload, second);
  };
  for (const key of Reflect.getMetadataKeys(method) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, method), call);
  }
  Object.defineProperty(call, 'name', { value: methodName });
  return call as AnyMethod;
}

/**
 * The application's global enhancers, read from the context creator Nest built for this application (it keeps
 * its container). Undefined when that shape is not there: every handler then runs through the pipeline, which
 * is always correct, only slower when nothing applies.
 */
function applicationConfigOf(contexts: ExternalContextCreator): ApplicationConfig | undefined {
  const container = (contexts as unknown as { container?: { applicationConfig?: ApplicationConfig } }).container;
  const config = container?.applicationConfig;
  return config && typeof config.getGlobalGuards === 'function' ? config : undefined;
}
