import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler, type WritePacket } from '@nestjs/microservices';
import { finalize, isObservable, lastValueFrom, throwError } from 'rxjs';
import { settleWithin } from '../core/deadline';
import { check } from '../core/option-checker';
import { openSpan } from '../core/tracing';
import { RedisConfigError } from '../redis/redis.errors';
import { RedisService } from '../redis/redis.service';
import { MESSAGING_FEATURE } from '../messaging/messaging.constants';
import { deadLetterKey, streamKey } from '../messaging/messaging.keys';
import type { ResolvedMessagingOptions } from '../messaging/messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from '../messaging/messaging.providers';
import { MessagingStats } from '../messaging/messaging.stats';
import { StreamConsumerRunner } from '../messaging/stream-consumer.runner';
import { StreamAppendBatcher } from '../messaging/stream-append.batcher';
import { StreamDelayMover } from '../messaging/stream-delay.mover';
import type { StreamMessage } from '../messaging/stream-delivery';
import { RedisStreamsContext } from './redis-streams.context';
import { NO_MESSAGE_HANDLER, REDIS_STREAMS_TRANSPORT, TRANSPORT_HEADERS } from './transport.constants';
import { eventStreamName, isReplyStreamName, requestStreamName } from './transport.keys';
import { encodeReply, errorReply, toError } from './transport.replies';
import type { ResolvedTransportOptions } from './transport.options';
import { TRANSPORT_RESOLVED_OPTIONS } from './transport.providers';
import { TransportStats, type TransportCounters } from './transport.stats';
import { rpcSpanStart } from './transport.tracing';

/** Request patterns whose handler lookup is remembered (callers choose patterns: the map must stay bounded). */
const MAX_CACHED_ROUTES = 1_000;

/** Reply streams whose last PEXPIRE is remembered (cleared when full: the next replies extend them again). */
const MAX_TRACKED_REPLY_STREAMS = 10_000;

/** What the server remembers of one reply stream it writes to. */
interface ReplyStreamState {
  /** The stream's Redis key. */
  key: string;
  /** When its life was last extended (epoch ms; 0: extend it with the next reply). */
  extendedAtMs: number;
}

/**
 * The Nest microservice server of the transport (a `CustomTransportStrategy`): Nest's ListenersController hands it
 * the `@EventPattern` / `@MessagePattern` handlers, already wrapped in the app's pipes, guards, interceptors and
 * exception filters, and this server feeds them from Redis Streams with the library's stream engine
 * (consumer groups, retries with backoff, dead-lettering after `maxAttempts`, XAUTOCLAIM of stalled messages):
 *
 * - **events**: one stream per pattern (`evt:<pattern>`), read in the consumer group named after the service, so
 *   each service gets each event once, spread over its instances; at-least-once; an event emitted while no
 *   instance runs waits in the stream. A handler that fails (an exception, an errored Observable) is retried
 *   through the stream's delayed set (the loop is free while the retry waits), then dead-lettered with the reason.
 *   While a loop runs, the delayed events of its stream (`emit` of a record with `delayMs` / `at`) are moved into
 *   it when due, whoever emitted them.
 * - **requests**: one stream per service (`rpc:<service>`); one instance answers on the caller's reply stream,
 *   every value of an Observable then the completion. At-most-once: requests are read with `XREADGROUP ... NOACK`
 *   (never pending, never reclaimed), so a responder that dies loses those it had read and their callers get
 *   `RequestTimeoutError`; a request whose deadline has passed is dropped unprocessed. The read loop waits while
 *   `concurrency` requests run.
 *
 * Hybrid app: `app.connectMicroservice({ strategy: app.get(RedisStreamsServer) })`; pure microservice:
 * `NestFactory.createMicroservice(AppModule, { inject: [RedisStreamsServer], useFactory: (strategy) => ({ strategy }) })`.
 */
@Injectable()
export class RedisStreamsServer extends Server implements CustomTransportStrategy, OnModuleDestroy {
  /** Lets `@EventPattern(p, REDIS_STREAMS_TRANSPORT)` bind a handler to this server only. */
  override readonly transportId = REDIS_STREAMS_TRANSPORT;
  /** Event handler failures reach this server (retries, DLQ) instead of being logged by Nest. */
  override readonly propagatesEventHandlerErrors = true;
  private readonly log = new Logger('RedisStreamsServer');
  private readonly runners: StreamConsumerRunner[] = [];
  /** Writes the replies of one tick to one reply stream as one entry (`c` / `p` pairs, see ReplyStreamReader). */
  private readonly replies = new StreamAppendBatcher(
    () => this.redis.getClient(this.options.clientName),
    ['c', 'p'],
    true,
  );
  private listening = false;
  /** Requests read (NOACK) and still running: their last reply is not handed to the writer yet. */
  private readonly running = new Set<Promise<void>>();
  /** Reply writes not answered by Redis yet (a shutdown waits for them). */
  private readonly writes = new Set<Promise<void>>();
  /** Read-loop workers waiting for a free request slot (back-pressure), each woken by one request finishing. */
  private slotWaiters: Array<() => void> = [];
  /** Request pattern → its handler (null: none), filled as requests come. */
  private readonly routes = new Map<string, MessageHandler | null>();
  /** Reply stream → its Redis key and when its life was last extended (epoch ms). */
  private readonly replyStreams = new Map<string, ReplyStreamState>();

  constructor(
    private readonly redis: RedisService,
    private readonly messagingStats: MessagingStats,
    private readonly counters: TransportStats,
    private readonly mover: StreamDelayMover,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Inject(TRANSPORT_RESOLVED_OPTIONS) private readonly transport: ResolvedTransportOptions,
  ) {
    super();
  }

  /** Transport counters of this process (clients included). */
  get stats(): TransportCounters {
    return this.counters.stats;
  }

  /** The streams this server reads while listening: one per event pattern, then its request stream. */
  get streams(): string[] {
    return this.runners.map((r) => r.stream);
  }

  /** Starts a consumer loop per event pattern and one for the requests; Nest calls it at `startAllMicroservices`. */
  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      this._status$.next('connected');
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Stops reading; the event handlers in flight finish and are acked, the running requests finish and reply (each
   * wait bounded by `shutdownTimeoutMs`). Idempotent.
   */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const runners = this.runners.splice(0);
    this.routes.clear();
    await Promise.all(runners.map((r) => r.stop()));
    // The requests already read finish and reply (RedisModule closes the connections after this).
    const finished = await settleWithin(
      Promise.all(this.running)
        .then(() => Promise.all(this.writes))
        .then(() => true),
      this.options.shutdownTimeoutMs,
      false,
    );
    if (!finished) this.log.warn(`requests still running after ${this.options.shutdownTimeoutMs} ms; not waiting`);
    this._status$.next('disconnected');
  }

  /** Stops with the module (before RedisModule closes the connections), in case Nest has not closed it yet. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  /** Not supported: this transport emits no events of its own (its logs and metrics say what happens). */
  on(): never {
    throw new Error('RedisStreamsServer has no events to listen to');
  }

  /** The shared Redis client the server writes replies with. */
  unwrap<T>(): T {
    return this.redis.getClient(this.options.clientName) as T;
  }

  private async start(): Promise<void> {
    if (this.listening) return;
    const service = this.transport.service;
    if (service === undefined) {
      throw new RedisConfigError('transport.service', 'is required to serve @EventPattern/@MessagePattern handlers');
    }
    const handlers = [...this.messageHandlers];
    const events = handlers.filter(([, handler]) => handler.isEventHandler);
    const requests = handlers.length - events.length;
    // Every event pattern names a stream: all are checked before any loop starts.
    for (const [route] of events) check.keyPart(`@EventPattern(${route})`, route);
    for (const [route, handler] of events) {
      this.runners.push(
        this.runner(service, eventStreamName(route), (payload, message) =>
          this.handleStreamEvent(route, handler, payload, message),
        ),
      );
    }
    if (requests > 0) {
      this.runners.push(
        this.runner(
          service,
          requestStreamName(service),
          (payload, message) => this.handleRequestMessage(payload, message),
          true, // at most once: a request read is never pending, redelivered or reclaimed
        ),
      );
    }
    this.listening = true;
    await Promise.all(this.runners.map((r) => r.start()));
    this.log.log(
      `service "${service}": ${events.length} event pattern(s) [${events.map(([route]) => route).join(', ')}], ` +
        `${requests} message pattern(s)`,
    );
  }

  private runner(
    service: string,
    stream: string,
    handler: (payload: unknown, message: StreamMessage) => unknown,
    noAck = false,
  ): StreamConsumerRunner {
    const feature = this.redis.prefixFor(MESSAGING_FEATURE);
    const o = this.options;
    return new StreamConsumerRunner({
      redis: this.redis,
      clientName: o.clientName,
      stats: this.messagingStats,
      logger: this.log,
      stream,
      group: service,
      key: streamKey(feature, stream),
      deadLetterKey: deadLetterKey(feature, stream),
      deadLetterMaxLen: o.deadLetterMaxLen,
      shutdownTimeoutMs: o.shutdownTimeoutMs,
      consumerName: o.consumerName,
      settings: this.transport.consumer,
      handler,
      label: `${service} <- ${stream}`,
      noAck,
      // Events: the delayed ones (and retries, through the delay) of this stream are moved while this loop runs.
      mover: noAck ? undefined : this.mover,
    });
  }

  private context(message: StreamMessage, pattern: string, deadline?: number): RedisStreamsContext {
    return new RedisStreamsContext({
      stream: message.stream,
      messageId: message.streamId,
      attempt: message.attempt,
      headers: message.envelope.headers,
      deadline,
      pattern,
      envelopeId: message.envelope.id,
      dueAt: message.dueAt,
    });
  }

  /** One event through the Nest handler(s) of its pattern; rejects (retry, then DLQ) when the handler fails. */
  private async handleStreamEvent(
    pattern: string,
    handler: MessageHandler,
    payload: unknown,
    message: StreamMessage,
  ): Promise<void> {
    try {
      const result: unknown = await handler(payload, this.context(message, pattern));
      // Nest's proxy resolves to the handler's value, or to an Observable (the handler's, or an error's).
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      else if (result instanceof Promise) await result;
      this.counters.inc('eventsHandled');
    } catch (err) {
      this.counters.inc('eventsFailed');
      throw toError(err);
    }
  }

  /**
   * One request: dropped when malformed or past its deadline; otherwise
   * through the Nest handler, every value and the completion (or the error) written to the caller's reply stream.
   * Returns nothing (ack now) or, while `concurrency` requests run, the work (the read loop waits for it); never
   * rejects (no retry of a request).
   */
  private handleRequestMessage(payload: unknown, message: StreamMessage): Promise<void> | undefined {
    const h = message.envelope.headers;
    const pattern = h[TRANSPORT_HEADERS.pattern];
    const replyTo = h[TRANSPORT_HEADERS.replyTo];
    const correlationId = h[TRANSPORT_HEADERS.correlationId];
    const deadline = Number(h[TRANSPORT_HEADERS.deadline]);
    if (!pattern || !replyTo || !isReplyStreamName(replyTo) || !correlationId) {
      this.messagingStats.inc('invalid');
      this.log.warn(`request ${message.streamId} on ${message.stream} lacks its transport headers; dropped`);
      return undefined;
    }
    if (Number.isFinite(deadline) && Date.now() > deadline) {
      this.counters.inc('requestsExpired');
      return undefined;
    }
    this.counters.inc('requestsHandled');
    const handler = this.requestHandler(pattern);
    if (!handler || handler.isEventHandler) {
      this.counters.inc('requestErrors');
      return this.reply(replyTo, correlationId, errorReply(NO_MESSAGE_HANDLER));
    }
    const context = this.context(message, pattern, Number.isFinite(deadline) ? deadline : undefined);
    const span = openSpan(`handle ${pattern}`, rpcSpanStart('server', message.group, pattern)); // tracing on
    const work = new Promise<void>((resolve) => {
      const respond = (packet: WritePacket): Promise<void> => {
        if (packet.err !== undefined) this.counters.inc('requestErrors');
        const written = this.reply(replyTo, correlationId, packet);
        if (packet.isDisposed) resolve();
        return written;
      };
      // Nest's handleRequest, with its processing hooks, except that a single value skips the Observable around it.
      this.runWithProcessingHooks(context, async (runEndHook) => {
        let result: unknown;
        try {
          result = await (span ? span.run(() => handler(payload, context)) : handler(payload, context));
        } catch (err) {
          result = throwError(() => err);
        }
        if (isObservable(result)) {
          // The handler's stream of replies, an interceptor's, or the exception filters' error: Nest's reply loop.
          this.send(result.pipe(finalize(runEndHook)), respond);
          return;
        }
        // A value (the handler's, or its promise's): the one and final reply.
        runEndHook();
        void respond({ response: result, isDisposed: true });
      });
    });
    // At-most-once: the request was read with NOACK, it is never pending (a responder that dies loses it; the
    // caller times out). The read loop only waits (back-pressure) while `concurrency` handlers are running: a
    // request counts until its last reply is handed to the writer (not until Redis answers the write).
    this.running.add(work);
    void work.then(() => {
      this.running.delete(work);
      this.slotWaiters.shift()?.();
    });
    if (span) void work.then(() => span.end()); // the span lasts until the last reply is written
    // Over the limit, the loop waits until a running request finishes.
    if (this.running.size <= this.transport.consumer.concurrency) return undefined;
    return new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /** The handler of a request pattern, looked up once per pattern (Nest's lookup tries JSON.parse first). */
  private requestHandler(pattern: string): MessageHandler | null {
    let handler = this.routes.get(pattern);
    if (handler === undefined) {
      handler = this.getHandlerByPattern(pattern);
      if (this.routes.size < MAX_CACHED_ROUTES) this.routes.set(pattern, handler);
    }
    return handler;
  }

  /** What the server remembers of reply stream `replyTo` (its key computed once). */
  private replyStream(replyTo: string): ReplyStreamState {
    let stream = this.replyStreams.get(replyTo);
    if (stream === undefined) {
      if (this.replyStreams.size >= MAX_TRACKED_REPLY_STREAMS) this.replyStreams.clear();
      stream = { key: streamKey(this.redis.prefixFor(MESSAGING_FEATURE), replyTo), extendedAtMs: 0 };
      this.replyStreams.set(replyTo, stream);
    }
    return stream;
  }

  /** Writes one reply entry (and extends the reply stream's life) with the tick's other replies; never rejects. */
  private reply(replyTo: string, correlationId: string, packet: WritePacket): Promise<void> {
    const t = this.transport;
    const stream = this.replyStream(replyTo);
    // The reply stream's life is extended at most every quarter TTL, in the same call as a reply to it: it expires
    // `replyTtlMs` after the last replies to a client that is gone.
    let ttlMs = 0;
    const now = Date.now();
    if (stream.extendedAtMs < now - t.replyTtlMs / 4) {
      stream.extendedAtMs = now;
      ttlMs = t.replyTtlMs;
    }
    const key = stream.key;
    const add = this.replies.append(key, [correlationId, encodeReply(packet)], t.replyMaxLen, ttlMs);
    const written = add.then(
      () => {
        this.counters.inc('replies');
        this.writes.delete(written);
      },
      (err: unknown) => {
        if (ttlMs > 0) stream.extendedAtMs = 0; // the next reply extends the stream's life again
        this.counters.inc('replyFailures');
        this.writes.delete(written);
        this.log.warn(`could not write a reply to ${replyTo}: ${toError(err).message}`);
      },
    );
    this.writes.add(written);
    return written;
  }
}
