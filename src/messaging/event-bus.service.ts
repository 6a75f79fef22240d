import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { tracePublish } from '../core/tracing';
import { RedisService } from '../redis/redis.service';
import { toRedisUnavailable } from '../redis/redis.errors';
import { createEnvelope, encodeEnvelope, type MessageEnvelope, type MessageHeaders } from './message-envelope';
import { MESSAGING_FEATURE } from './messaging.constants';
import { channelKey } from './messaging.keys';
import type { ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import type { PayloadDto } from './payload-validation';
import { PubSubDispatcher } from './pubsub-dispatcher';
import { pubSubMode, type PubSubMode } from './pubsub-mode';
import { PubSubSubscriber } from './pubsub-subscriber';
import { listenTo, observeSubscription, type Subscribe } from './pubsub-observables';
import { rememberLast } from './remember-last';
import { SubscriptionRegistry, type MessageHandler } from './subscription.registry';

export type { MessageHandler } from './subscription.registry';
export { LISTEN_BUFFER_LIMIT } from './pubsub-observables';

/** Options of {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /** Treat the channel as a glob pattern (PSUBSCRIBE). */
  pattern?: boolean;
  /** Validate payloads with this DTO before calling the handler. */
  dto?: PayloadDto;
  /** Name used in logs (default: the channel). */
  label?: string;
}

/** Options of {@link EventBus.observe}. */
export interface ObserveOptions extends SubscribeOptions {
  /**
   * Called once Redis has confirmed the subscription: every message published from then on is delivered.
   * An SSE endpoint can use it to tell its client that the stream is live (before that, messages may be missed).
   */
  onSubscribed?: () => void;
}

/** Options of {@link EventBus.listen}. */
export interface ListenOptions extends SubscribeOptions {
  /** Ends the subscription when aborted, whether or not the Observable was subscribed (e.g. Nest's `@SseSignal()`). */
  signal?: AbortSignal;
}

/** Options of {@link EventBus.publish}. */
export interface PublishOptions {
  /** Headers to carry; `traceId` is generated when missing. */
  headers?: Partial<MessageHeaders>;
}

/** How long shutdown waits for Redis to confirm the unsubscribes, ms. */
const UNSUBSCRIBE_TIMEOUT_MS = 1_000;

/**
 * Broadcast messaging over Redis pub/sub: every subscribed instance gets every message, at most once,
 * and only while it is connected. Channels are `<prefix>msg:<channel>` in Redis.
 * The commands depend on the pub/sub mode (classic or sharded, {@link PubSubMode}); subscriptions and their
 * handlers are kept by a {@link SubscriptionRegistry} over one {@link PubSubSubscriber} connection; received
 * messages run through a {@link PubSubDispatcher}.
 */
@Injectable()
export class EventBus implements OnModuleDestroy {
  private readonly logger = new Logger('EventBus');
  private readonly dispatcher: PubSubDispatcher;
  /** {@link channelKey} of the last channel published on (messages mostly come in runs on one channel). */
  private readonly publishKey = rememberLast((channel) => this.channelKey(channel));
  private pubSub: PubSubMode | undefined;
  private registry: SubscriptionRegistry | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly stats: MessagingStats,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {
    this.dispatcher = new PubSubDispatcher(stats, this.logger);
  }

  /** True when pub/sub uses SSUBSCRIBE/SPUBLISH (Cluster with `clusterPubSub: 'sharded'`). */
  get sharded(): boolean {
    return this.mode.name === 'sharded';
  }

  /** The Redis channel of an app-facing channel name: `<prefix>msg:<channel>`. */
  channelKey(channel: string): string {
    return channelKey(this.redis.prefixFor(MESSAGING_FEATURE), channel);
  }

  /**
   * Publishes `payload` on `channel` inside an envelope. Resolves with the envelope once Redis accepted it
   * (whoever listens at that moment gets it). Rejects with {@link RedisUnavailableError} when Redis is
   * unreachable (within the client's command timeout) — a message is never dropped silently.
   */
  publish<T>(channel: string, payload: T, options: PublishOptions = {}): Promise<MessageEnvelope<T>> {
    // Tracing on: a producer span, whose context the message carries (traceparent / tracestate headers).
    return tracePublish(channel, 'pubsub', options.headers, (headers, span) => {
      const envelope = createEnvelope(channel, payload, headers);
      span?.setAttribute('messaging.message.id', envelope.id);
      return this.publishEnvelope(channel, envelope);
    });
  }

  /** {@link publish} of a built envelope. */
  private publishEnvelope<T>(channel: string, envelope: MessageEnvelope<T>): Promise<MessageEnvelope<T>> {
    let sent: Promise<unknown>;
    try {
      sent = this.mode.publish(channel, this.publishKey(channel), encodeEnvelope(envelope));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err))); // e.g. a BigInt in the payload
    }
    return sent.then(
      () => {
        this.stats.inc('published');
        return envelope;
      },
      (err: unknown) => {
        throw toRedisUnavailable(err, `Could not publish on "${channel}"`);
      },
    );
  }

  /**
   * Calls `handler` for every message on `channel` (or matching a pattern). A throwing handler is logged and
   * counted, never stops the others. Resolves once Redis confirmed the subscription (concurrent callers of one
   * channel share one SUBSCRIBE); the returned function unsubscribes. Rejects with {@link RedisUnavailableError}
   * when Redis is unreachable (the next caller tries again), with {@link RedisConfigError} for a pattern with
   * sharded pub/sub.
   */
  async subscribe<T = unknown>(
    channel: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<() => Promise<void>> {
    const kind = options.pattern ? 'pattern' : 'channel';
    this.mode.assertSupports(kind, channel);
    return this.subscriptions.add(kind, this.channelKey(channel), {
      handler: handler as MessageHandler,
      dto: options.dto,
      label: options.label ?? channel,
    });
  }

  /**
   * The messages of a channel (or pattern) as an Observable; subscribes on first subscription, unsubscribes on
   * teardown. `onSubscribed` tells when Redis has confirmed the subscription; a failed subscription errors the
   * Observable (RedisUnavailableError when Redis is unreachable).
   */
  observe<T = unknown>(channel: string, options: ObserveOptions = {}): Observable<MessageEnvelope<T>> {
    const { onSubscribed, ...subscribeOptions } = options;
    return observeSubscription(this.subscribeTo<T>(channel, subscribeOptions), onSubscribed);
  }

  /**
   * Subscribes now and resolves, once Redis has confirmed it, with the messages from that moment on as an Observable
   * for one subscriber — e.g. a Server-Sent Events response: an async `@Sse()` handler that awaits it answers an
   * error (RedisUnavailableError → 503) before any header, and its client misses nothing published after the
   * stream opened. Messages that arrive before the Observable is subscribed wait for it (at most
   * {@link LISTEN_BUFFER_LIMIT}; later ones are dropped). The subscription ends when the Observable is
   * unsubscribed or `signal` aborts (Nest's `@SseSignal()`: also when the client left before the stream existed).
   */
  listen<T = unknown>(channel: string, options: ListenOptions = {}): Promise<Observable<MessageEnvelope<T>>> {
    const { signal, ...subscribeOptions } = options;
    return listenTo(this.subscribeTo<T>(channel, subscribeOptions), channel, signal);
  }

  /** Shutdown: unsubscribes everything; RedisModule closes the connection afterwards. */
  async onModuleDestroy(): Promise<void> {
    await this.registry?.close(UNSUBSCRIBE_TIMEOUT_MS);
  }

  private get mode(): PubSubMode {
    this.pubSub ??= pubSubMode(this.redis, this.options.clientName, this.options.clusterPubSub);
    return this.pubSub;
  }

  private get subscriptions(): SubscriptionRegistry {
    if (this.registry) return this.registry;
    const registry: SubscriptionRegistry = new SubscriptionRegistry(
      new PubSubSubscriber(this.mode, (id, text) => {
        const handlers = registry.handlersOf(id);
        if (handlers) this.dispatcher.dispatch(id, text, handlers);
      }),
    );
    this.registry = registry;
    return registry;
  }

  private subscribeTo<T>(channel: string, options: SubscribeOptions): Subscribe<T> {
    return (handler) => this.subscribe<T>(channel, handler, options);
  }
}
