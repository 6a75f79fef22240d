import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { check } from '../core/option-checker';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from '../core/method-decorators';
import { EventBus } from './event-bus.service';
import type { MessageEnvelope } from './message-envelope';
import { pubSubContext } from './message-context';
import { MessagePipeline } from './message-pipeline';
import { ON_MESSAGE_METADATA } from './messaging.constants';
import type { PayloadDto } from './payload-validation';
import type { MessageHandler } from './subscription.registry';

/** Options of `@OnMessage`. */
export interface OnMessageOptions {
  /** Treat the channel as a glob pattern (`orders.*`), PSUBSCRIBE. Not available with sharded pub/sub on Cluster. */
  pattern?: boolean;
  /** Validate the payload with this class-validator DTO; an invalid message is logged and counted, the handler not called. */
  dto?: PayloadDto;
}

/** What `@OnMessage` stores on a method. */
export interface OnMessageMetadata extends OnMessageOptions {
  /** App-facing channel or pattern. */
  channel: string;
}

/**
 * Marks a provider method as a pub/sub handler: `(payload, envelope) => unknown`, or with `@MessagePayload()` /
 * `@MessageCtx()` parameters. It runs through the application's guards, interceptors, pipes and exception
 * filters ({@link MessagePipeline}). Only stores metadata; MessagingModule subscribes the method at application
 * bootstrap. May be written several times on one method.
 * @param channel app-facing channel (`order.confirmed`) or pattern with `{ pattern: true }` (`order.*`)
 */
export function OnMessage(channel: string, options: OnMessageOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    const fn = descriptor.value as object;
    const list = (Reflect.getMetadata(ON_MESSAGE_METADATA, fn) as OnMessageMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(ON_MESSAGE_METADATA, [...list, { channel, ...options }], fn);
    return descriptor;
  };
}

/**
 * What makes `@OnMessage` work: records each decorated method (with the library's other decorators applied) and
 * subscribes it, through Nest's pipeline ({@link MessagePipeline}), with the {@link EventBus} at application
 * bootstrap, which fails startup when a subscription fails (Redis unreachable, a pattern with sharded pub/sub).
 * The EventBus unsubscribes at shutdown.
 */
@MethodDecoratorHandlerProvider()
@Injectable()
export class OnMessageHandler implements MethodDecoratorHandler<OnMessageMetadata[]>, OnApplicationBootstrap {
  readonly decorator = '@OnMessage';
  readonly metadataKey = ON_MESSAGE_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.listener;
  private readonly bound: Array<{ metadata: OnMessageMetadata; target: DecoratedMethod; method: MessageHandler }> = [];

  constructor(
    private readonly bus: EventBus,
    private readonly pipeline: MessagePipeline,
  ) {}

  /** Throws a RedisConfigError naming `@OnMessage(Class.method).channel` when a channel is not a non-empty string. */
  validate(list: OnMessageMetadata[], target: DecoratedMethod): void {
    const path = `@OnMessage(${target.label}).channel`;
    for (const { channel } of list) if (check.string(path, channel) === undefined) check.fail(path, 'is required');
  }

  /** Records the method once per `@OnMessage` on it: subscribed at bootstrap. */
  bind(method: AnyMethod, list: OnMessageMetadata[], target: DecoratedMethod): void {
    for (const metadata of list) this.bound.push({ metadata, target, method: method as MessageHandler });
  }

  /** Subscribes every recorded method; resolves once Redis confirmed every subscription. */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      this.bound.map(({ metadata, target, method }) => {
        const pattern = metadata.pattern ? metadata.channel : undefined;
        const handler = this.pipeline.handler<MessageEnvelope>(this.decorator, target, method, (envelope) =>
          pubSubContext(envelope, pattern),
        );
        return this.bus.subscribe(metadata.channel, handler, {
          pattern: metadata.pattern,
          dto: metadata.dto,
          label: target.label,
        });
      }),
    );
  }
}
