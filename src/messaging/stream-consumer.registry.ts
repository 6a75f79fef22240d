import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { MESSAGING_FEATURE } from './messaging.constants';
import { deadLetterKey, streamKey } from './messaging.keys';
import { withOverrides, type ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import type { StreamConsumerOptions } from './stream-consumer.decorator';
import { StreamConsumerRunner } from './stream-consumer.runner';
import { StreamDelayMover } from './stream-delay.mover';
import type { StreamHandler } from './stream-delivery';

/** One consumer loop started in this process, for tests, logs and metrics. */
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
 * The stream consumers of this process: starts a consumer loop for a handler (settings = the module's
 * `consumerDefaults` overridden by the consumer's own), lists the started ones, and stops them all at shutdown
 * (`onModuleDestroy`, before RedisModule closes the connections): no new reads, the messages in flight finish
 * and are acked within `shutdownTimeoutMs`.
 */
@Injectable()
export class StreamConsumerRegistry implements OnModuleDestroy {
  private readonly logger = new Logger('Messaging');
  private readonly started: Array<{ runner: StreamConsumerRunner; description: StreamConsumerDescription }> = [];

  constructor(
    private readonly redis: RedisService,
    private readonly stats: MessagingStats,
    private readonly mover: StreamDelayMover,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /** The consumer loops started in this process (copies). */
  get consumers(): StreamConsumerDescription[] {
    return this.started.map((s) => ({ ...s.description }));
  }

  /**
   * Starts a consumer loop calling `handler` for the messages of `options.stream` in `options.group` (options
   * already validated); resolves once its group exists (or creating it failed: the loop tries again).
   * @param label `Class.method`, for logs
   */
  async start(options: StreamConsumerOptions, label: string, handler: StreamHandler): Promise<void> {
    const { stream, group, dto, ...overrides } = options;
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
      mover: this.mover,
    });
    this.started.push({ runner, description: { label, stream, group, consumer: this.options.consumerName } });
    await runner.start();
  }

  /** Stops every consumer loop: no new reads, in-flight messages finish and are acked. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.started.map((s) => s.runner.stop()));
  }
}
