import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { check } from '../core/option-checker';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from '../core/method-decorators';
import { streamContext } from './message-context';
import { MessagePipeline } from './message-pipeline';
import { STREAM_CONSUMER_METADATA } from './messaging.constants';
import {
  validateConsumerSettings,
  type ResolvedMessagingOptions,
  type StreamConsumerSettings,
} from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import type { PayloadDto } from './payload-validation';
import { StreamConsumerRegistry } from './stream-consumer.registry';
import type { StreamHandler, StreamMessage } from './stream-delivery';

/** Options of `@StreamConsumer`; the unset numbers come from the module's `consumerDefaults`. */
export interface StreamConsumerOptions extends Partial<StreamConsumerSettings> {
  /** App-facing stream name, e.g. `orders` (the key is `<prefix>msg:stream:{orders}`). */
  stream: string;
  /** Consumer group; every group gets each message once, consumers of one group share the work. */
  group: string;
  /** Validate the payload with this DTO; an invalid one goes to the DLQ at once (counted as `invalid`). */
  dto?: PayloadDto;
}

/**
 * Marks a provider method as a durable stream handler: `(payload, message) => Promise<unknown>`, or with
 * `@MessagePayload()` / `@MessageCtx()` parameters. It runs through the application's guards, interceptors, pipes
 * and exception filters ({@link MessagePipeline}). Resolving acks the message; throwing retries it with backoff up
 * to `maxAttempts`, then dead-letters it; a refusal (a guard, a `ValidationPipe`, any 4xx `HttpException` but 408
 * and 429) dead-letters it at once with the reason. Only stores metadata; MessagingModule starts the consumer loop
 * at application bootstrap.
 */
export function StreamConsumer(options: StreamConsumerOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(STREAM_CONSUMER_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}

/**
 * Checks the options of one `@StreamConsumer`; throws {@link RedisConfigError} naming the option, e.g.
 * `@StreamConsumer(Billing.handle).maxAttempts`.
 * @param path `@StreamConsumer(Class.method)`
 */
export function validateStreamConsumerOptions(path: string, options: StreamConsumerOptions): void {
  check.object(path, options);
  for (const part of ['stream', 'group'] as const) {
    if (check.keyPart(`${path}.${part}`, options[part]) === undefined) check.fail(`${path}.${part}`, 'is required');
  }
  validateConsumerSettings(path, options);
}

/**
 * What makes `@StreamConsumer` work: checks its options at startup, records each decorated method (with the
 * library's other decorators applied) and starts its consumer loop at application bootstrap, unless the module
 * has `disableConsumers`. The loops live in the {@link StreamConsumerRegistry}, which stops them at shutdown.
 */
@MethodDecoratorHandlerProvider()
@Injectable()
export class StreamConsumerHandler implements MethodDecoratorHandler<StreamConsumerOptions>, OnApplicationBootstrap {
  readonly decorator = '@StreamConsumer';
  readonly metadataKey = STREAM_CONSUMER_METADATA;
  readonly order = METHOD_DECORATOR_ORDER.listener;
  private readonly bound: Array<{ options: StreamConsumerOptions; target: DecoratedMethod; method: StreamHandler }> =
    [];

  constructor(
    private readonly registry: StreamConsumerRegistry,
    private readonly pipeline: MessagePipeline,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /** Throws a RedisConfigError naming `@StreamConsumer(Class.method).<option>` for unusable options. */
  validate(options: StreamConsumerOptions, target: DecoratedMethod): void {
    validateStreamConsumerOptions(`@StreamConsumer(${target.label})`, options);
  }

  /** Records the method: its loop starts at bootstrap. */
  bind(method: AnyMethod, options: StreamConsumerOptions, target: DecoratedMethod): void {
    this.bound.push({ options, target, method: method as StreamHandler });
  }

  /** Starts every recorded consumer loop, each through Nest's pipeline (none with `disableConsumers`). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.options.disableConsumers) return;
    await Promise.all(
      this.bound.map(({ options, target, method }) =>
        this.registry.start(
          options,
          target.label,
          this.pipeline.handler<StreamMessage>(this.decorator, target, method, streamContext),
        ),
      ),
    );
  }
}
