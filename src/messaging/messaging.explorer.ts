import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { RedisService } from '../redis/redis.service';
import { EventBus } from './event-bus.service';
import { MESSAGING_FEATURE, ON_MESSAGE_METADATA, STREAM_CONSUMER_METADATA } from './messaging.constants';
import { validateConsumerSettings, withOverrides, type ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import type { OnMessageMetadata } from './on-message.decorator';
import type { StreamConsumerOptions } from './stream-consumer.decorator';
import { StreamConsumerRunner } from './stream-consumer.runner';
import type { StreamHandler } from './stream-delivery';
import { deadLetterKey, streamKey } from './messaging.keys';

type AnyMethod = (...args: unknown[]) => unknown;

/** Lifecycle of one consumer loop, for tests and metrics. */
export interface StreamConsumerDescription {
  /** `Class.method`. */
  label: string;
  /** App-facing stream name. */
  stream: string;
  /** Consumer group. */
  group: string;
  /** Consumer name in the group. */
  consumer: string;
}

/**
 * Finds `@OnMessage` and `@StreamConsumer` methods on every provider and controller at bootstrap
 * (DiscoveryService + MetadataScanner, like @nestjs/event-emitter), subscribes them and starts the
 * consumer loops; stops the loops first on shutdown.
 */
@Injectable()
export class MessagingExplorer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Messaging');
  private readonly runners: Array<{ runner: StreamConsumerRunner; description: StreamConsumerDescription }> = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly bus: EventBus,
    private readonly redis: RedisService,
    private readonly stats: MessagingStats,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /** The consumer loops started in this process. */
  get consumers(): StreamConsumerDescription[] {
    return this.runners.map((r) => r.description);
  }

  /** Subscribes the `@OnMessage` handlers and starts the `@StreamConsumer` loops. */
  async onApplicationBootstrap(): Promise<void> {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    const pending: Array<Promise<unknown>> = [];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || seen.has(instance))
        continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const label = `${instance.constructor.name}.${method}`;
        const subs = Reflect.getMetadata(ON_MESSAGE_METADATA, fn) as OnMessageMetadata[] | undefined;
        for (const meta of subs ?? []) {
          pending.push(
            this.bus.subscribe(meta.channel, (payload, env) => (fn as AnyMethod).call(instance, payload, env), {
              pattern: meta.pattern,
              dto: meta.dto,
              label,
            }),
          );
        }
        const consumer = Reflect.getMetadata(STREAM_CONSUMER_METADATA, fn) as StreamConsumerOptions | undefined;
        if (consumer && !this.options.disableConsumers) {
          pending.push(
            this.startConsumer(consumer, label, (payload, message) =>
              (fn as AnyMethod).call(instance, payload, message),
            ),
          );
        }
      }
    }
    await Promise.all(pending);
  }

  /** Stops every consumer loop: no new reads, in-flight messages finish and are acked. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.runner.stop()));
  }

  private async startConsumer(o: StreamConsumerOptions, label: string, handler: StreamHandler): Promise<void> {
    validateConsumerSettings(`@StreamConsumer(${label})`, o);
    const { stream, group, dto, ...overrides } = o;
    const feature = this.redis.prefixFor(MESSAGING_FEATURE);
    const runner = new StreamConsumerRunner({
      redis: this.redis,
      clientName: this.options.clientName,
      stats: this.stats,
      logger: this.logger,
      stream,
      group,
      key: streamKey(feature, stream),
      deadLetterKey: deadLetterKey(feature, stream),
      deadLetterMaxLen: this.options.deadLetterMaxLen,
      shutdownTimeoutMs: this.options.shutdownTimeoutMs,
      consumerName: this.options.consumerName,
      settings: withOverrides(this.options.consumerDefaults, overrides),
      handler,
      dto,
      label,
    });
    this.runners.push({ runner, description: { label, stream, group, consumer: this.options.consumerName } });
    await runner.start();
  }
}
