import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Cluster, type ClusterOptions } from 'ioredis';
import { Observable } from 'rxjs';
import { RedisUnavailableError, isRedisConnectionError } from '../redis/redis.errors';
import { RedisService } from '../redis/redis.service';
import type { RedisClient } from '../redis/redis.options';
import { RedisConfigError } from '../redis/redis.errors';
import { MESSAGING_FEATURE } from './messaging.constants';
import { MessagingStats } from './messaging.stats';
import {
  createEnvelope,
  encodeEnvelope,
  parseEnvelope,
  type MessageEnvelope,
  type MessageHeaders,
} from './message-envelope';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import type { ResolvedMessagingOptions } from './messaging.options';
import { validatePayload, type PayloadDto } from './payload-validation';
import { MessageValidationError } from './messaging.errors';
import { CommandBatcher } from '../core/command-batcher';
import { channelKey } from './messaging.keys';

/** A pub/sub handler: gets the (validated) payload and the whole envelope. */
export type MessageHandler<T = unknown> = (payload: T, envelope: MessageEnvelope<T>) => unknown;

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

/** Messages {@link EventBus.listen} keeps for its Observable until it is subscribed; later ones are dropped. */
export const LISTEN_BUFFER_LIMIT = 100;

/** Options of {@link EventBus.publish}. */
export interface PublishOptions {
  /** Headers to carry; `traceId` is generated when missing. */
  headers?: Partial<MessageHeaders>;
}

interface Registration {
  handler: MessageHandler;
  dto?: PayloadDto;
  label: string;
}

type Kind = 'channel' | 'pattern';

/**
 * Broadcast messaging over Redis pub/sub: every subscribed instance gets every message, at most once,
 * and only while it is connected. Channels are `<prefix>msg:<channel>` in Redis.
 */
@Injectable()
export class EventBus implements OnModuleDestroy {
  private readonly logger = new Logger('EventBus');
  private subscriber: RedisClient | undefined;
  private readonly registrations = new Map<string, Set<Registration>>();
  /**
   * The SUBSCRIBE/PSUBSCRIBE of each `<kind>:<key>`, settled once Redis answered: every caller of a channel awaits
   * the same one. A failed one is dropped, so the next caller asks Redis again.
   */
  private readonly subscribed = new Map<string, Promise<void>>();
  private closed = false;
  private isSharded: boolean | undefined;
  private readonly batcher = new CommandBatcher(() => this.redis.getClient(this.options.clientName));

  constructor(
    private readonly redis: RedisService,
    private readonly stats: MessagingStats,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /** True when pub/sub uses SSUBSCRIBE/SPUBLISH (Cluster with `clusterPubSub: 'sharded'`). */
  get sharded(): boolean {
    this.isSharded ??= this.redis.isCluster(this.options.clientName) && this.options.clusterPubSub === 'sharded';
    return this.isSharded;
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
    const envelope = createEnvelope(channel, payload, options.headers);
    const key = this.channelKey(channel);
    let sent: Promise<unknown>;
    try {
      const text = encodeEnvelope(envelope);
      // Publishes issued in the same tick go out as one pipeline (per channel on Cluster: one slot each).
      if (this.sharded) sent = this.batcher.send(channel, ['SPUBLISH', key, text]);
      else if (this.redis.isCluster(this.options.clientName))
        sent = this.redis.getClient(this.options.clientName).publish(key, text);
      else sent = this.batcher.send('', ['PUBLISH', key, text]);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err))); // e.g. a BigInt in the payload
    }
    return sent.then(
      () => {
        this.stats.inc('published');
        return envelope;
      },
      (err: unknown) => {
        if (isRedisConnectionError(err)) {
          throw new RedisUnavailableError(`Could not publish on "${channel}": ${(err as Error).message}`, {
            cause: err,
          });
        }
        throw err;
      },
    );
  }

  /**
   * Calls `handler` for every message on `channel` (or matching a pattern). A throwing handler is logged and
   * counted, never stops the others. Resolves once subscribed; the returned function unsubscribes.
   */
  async subscribe<T = unknown>(
    channel: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<() => Promise<void>> {
    const kind: Kind = options.pattern ? 'pattern' : 'channel';
    if (kind === 'pattern' && this.sharded) {
      throw new RedisConfigError(
        'messaging.clusterPubSub',
        `pattern subscription "${channel}" is not possible with sharded pub/sub on Cluster; use exact channels or clusterPubSub: 'classic'`,
      );
    }
    const key = this.channelKey(channel);
    const id = `${kind}:${key}`;
    const reg: Registration = { handler: handler as MessageHandler, dto: options.dto, label: options.label ?? channel };
    let set = this.registrations.get(id);
    if (!set) {
      set = new Set();
      this.registrations.set(id, set);
    }
    set.add(reg);
    try {
      await this.subscribedInRedis(id, kind, key);
    } catch (err) {
      // Not subscribed: forget this handler, so the next caller asks Redis again.
      set.delete(reg);
      if (set.size === 0 && this.registrations.get(id) === set) this.registrations.delete(id);
      throw err;
    }
    return async () => {
      const current = this.registrations.get(id);
      if (!current?.delete(reg) || current.size > 0) return;
      this.registrations.delete(id);
      this.subscribed.delete(id);
      await this.redisUnsubscribe(kind, key).catch(() => undefined);
    };
  }

  /**
   * The messages of a channel (or pattern) as an Observable; subscribes on first subscription, unsubscribes on
   * teardown. `onSubscribed` tells when Redis has confirmed the subscription; a failed subscription errors the
   * Observable (RedisUnavailableError when Redis is unreachable).
   */
  observe<T = unknown>(channel: string, options: ObserveOptions = {}): Observable<MessageEnvelope<T>> {
    const { onSubscribed, ...subscribeOptions } = options;
    return new Observable<MessageEnvelope<T>>((subscriber) => {
      let off: (() => Promise<void>) | undefined;
      let done = false;
      this.subscribe<T>(channel, (_payload, envelope) => subscriber.next(envelope), subscribeOptions).then(
        (unsubscribe) => {
          if (done) {
            void unsubscribe();
            return;
          }
          off = unsubscribe;
          onSubscribed?.();
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        done = true;
        if (off) void off();
      };
    });
  }

  /**
   * Subscribes now and resolves, once Redis has confirmed it, with the messages from that moment on as an Observable
   * for one subscriber — e.g. a Server-Sent Events response: an async `@Sse()` handler that awaits it answers an
   * error (RedisUnavailableError → 503) before any header, and its client misses nothing published after the
   * stream opened. Messages that arrive before the Observable is subscribed wait for it (at most
   * {@link LISTEN_BUFFER_LIMIT}; later ones are dropped). The subscription ends when the Observable is
   * unsubscribed or `signal` aborts (Nest's `@SseSignal()`: also when the client left before the stream existed).
   */
  async listen<T = unknown>(channel: string, options: ListenOptions = {}): Promise<Observable<MessageEnvelope<T>>> {
    const { signal, ...subscribeOptions } = options;
    const early: Array<MessageEnvelope<T>> = [];
    let deliver: ((envelope: MessageEnvelope<T>) => void) | undefined;
    const unsubscribe = await this.subscribe<T>(
      channel,
      (_payload, envelope) => {
        if (deliver) deliver(envelope);
        else if (early.length < LISTEN_BUFFER_LIMIT) early.push(envelope);
      },
      subscribeOptions,
    );
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      deliver = undefined;
      early.length = 0;
      signal?.removeEventListener('abort', end);
      void unsubscribe();
    };
    if (signal?.aborted) end();
    else signal?.addEventListener('abort', end, { once: true });
    let taken = false;
    return new Observable<MessageEnvelope<T>>((subscriber) => {
      if (taken) {
        subscriber.error(new Error(`listen("${channel}") gives an Observable for one subscriber`));
        return undefined;
      }
      taken = true;
      if (ended) {
        subscriber.complete();
        return undefined;
      }
      for (const envelope of early.splice(0)) subscriber.next(envelope);
      deliver = (envelope) => subscriber.next(envelope);
      return end;
    });
  }

  /** Shutdown: unsubscribes everything; RedisModule closes the connection afterwards. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    const sub = this.subscriber;
    const ids = [...this.registrations.keys()];
    this.registrations.clear();
    this.subscribed.clear();
    if (!sub || sub.status !== 'ready') return;
    const channels = ids.filter((id) => id.startsWith('channel:')).map((id) => id.slice('channel:'.length));
    const patterns = ids.filter((id) => id.startsWith('pattern:')).map((id) => id.slice('pattern:'.length));
    const pending: Array<Promise<unknown>> = [];
    if (patterns.length > 0) pending.push(sub.punsubscribe(...patterns));
    if (channels.length > 0 && !this.sharded) pending.push(sub.unsubscribe(...channels));
    else if (channels.length > 0) pending.push(...channels.map((c) => sub.sunsubscribe(c)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending).catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  private getSubscriber(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const name = this.options.clientName;
    const parent = this.redis.getClient(name);
    let sub: RedisClient;
    if (parent instanceof Cluster && this.sharded) {
      // RedisService.duplicate() copies the parent's Cluster options: switch sharded subscribers on for the
      // copy only (synchronously, so the shared client never sees the flag while it acts on it).
      const opts = parent.options as ClusterOptions;
      const before = opts.shardedSubscribers;
      opts.shardedSubscribers = true;
      try {
        sub = this.redis.duplicate(name, 'subscriber');
      } finally {
        opts.shardedSubscribers = before;
      }
    } else {
      sub = this.redis.duplicate(name, 'subscriber');
    }
    if (sub.status === 'wait') sub.connect().catch(() => undefined);
    sub.on('message', (channel: string, text: string) => this.dispatch(`channel:${channel}`, text));
    sub.on('smessage', (channel: string, text: string) => this.dispatch(`channel:${channel}`, text));
    sub.on('pmessage', (pattern: string, _channel: string, text: string) => this.dispatch(`pattern:${pattern}`, text));
    this.subscriber = sub;
    return sub;
  }

  /** Resolves once Redis has confirmed the subscription `id`, sharing one SUBSCRIBE among concurrent callers. */
  private subscribedInRedis(id: string, kind: Kind, key: string): Promise<void> {
    let done = this.subscribed.get(id);
    if (!done) {
      const attempt = this.redisSubscribe(kind, key);
      // Registered first, so the entry is gone before any caller sees the error.
      attempt.catch(() => {
        if (this.subscribed.get(id) === attempt) this.subscribed.delete(id);
      });
      this.subscribed.set(id, attempt);
      done = attempt;
    }
    return done;
  }

  private async redisSubscribe(kind: Kind, key: string): Promise<void> {
    const sub = this.getSubscriber();
    try {
      if (kind === 'pattern') await sub.psubscribe(key);
      else if (this.sharded) await sub.ssubscribe(key);
      else await sub.subscribe(key);
    } catch (err) {
      if (isRedisConnectionError(err)) {
        throw new RedisUnavailableError(`Could not subscribe to "${key}": ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  private async redisUnsubscribe(kind: Kind, key: string): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return;
    if (kind === 'pattern') await sub.punsubscribe(key);
    else if (this.sharded) await sub.sunsubscribe(key);
    else await sub.unsubscribe(key);
  }

  private dispatch(id: string, text: string): void {
    if (this.closed) return;
    const regs = this.registrations.get(id);
    if (!regs || regs.size === 0) return;
    this.stats.inc('received');
    let envelope: MessageEnvelope;
    try {
      envelope = parseEnvelope(text);
    } catch (err) {
      this.stats.inc('invalid');
      this.logger.warn(`Dropped a message on ${id}: ${(err as Error).message}`);
      return;
    }
    for (const reg of regs) {
      if (reg.dto) {
        void this.runValidated(reg, envelope);
        continue;
      }
      // Fast path without a DTO: call the handler synchronously, catch sync throws and async rejections.
      try {
        const result = reg.handler(envelope.payload, envelope);
        if (result instanceof Promise) {
          result.then(
            () => this.stats.inc('handled'),
            (err: unknown) => this.handlerFailed(reg, envelope, err),
          );
        } else {
          this.stats.inc('handled');
        }
      } catch (err) {
        this.handlerFailed(reg, envelope, err);
      }
    }
  }

  private handlerFailed(reg: Registration, envelope: MessageEnvelope, err: unknown): void {
    this.stats.inc('failed');
    this.logger.error(
      `Handler ${reg.label} failed on message ${envelope.id} (trace ${envelope.headers.traceId}): ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }

  private async runValidated(reg: Registration, envelope: MessageEnvelope): Promise<void> {
    let payload: unknown;
    try {
      payload = await validatePayload(envelope.type, reg.dto as PayloadDto, envelope.payload);
    } catch (err) {
      this.stats.inc('invalid');
      this.logger.warn(
        `Invalid message ${envelope.id} for ${reg.label}: ${err instanceof MessageValidationError ? err.message : String(err)}`,
      );
      return;
    }
    try {
      await reg.handler(payload, envelope);
      this.stats.inc('handled');
    } catch (err) {
      this.handlerFailed(reg, envelope, err);
    }
  }
}
