import { randomBytes } from 'node:crypto';
import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { deadlines, type DeadlineTicket } from '../core/deadline-sweeper';
import { check } from '../core/option-checker';
import { openSpan } from '../core/tracing';
import { RedisConfigError } from '../redis/redis.errors';
import type { RedisService } from '../redis/redis.service';
import { MESSAGING_FEATURE } from '../messaging/messaging.constants';
import { streamKey } from '../messaging/messaging.keys';
import type { ReplicatedDurability } from '../messaging/stream-durability';
import type { StreamProducer } from '../messaging/stream-producer.service';
import { ReplyStreamReader } from './reply-stream.reader';
import { RedisStreamsRecord } from './redis-streams.record';
import { TRANSPORT_HEADERS } from './transport.constants';
import { RequestTimeoutError, TransportClosedError } from './transport.errors';
import { eventStreamName, replyStreamName, requestStreamName } from './transport.keys';
import { decodeReply } from './transport.replies';
import type { TransportStats } from './transport.stats';
import { endWithReplies, rpcSpanStart } from './transport.tracing';

/** Settings of one {@link RedisStreamsClient}. */
export interface RedisStreamsClientSettings {
  /** RedisModule client whose connection it shares (and duplicates for its reply reader). */
  clientName: string;
  /** Service its `send()` targets; `undefined`: the client only emits. */
  service: string | undefined;
  /** `send()` timeout, ms. */
  requestTimeoutMs: number;
  /** Unique part of its reply stream's name (the process's consumer name). */
  instanceName: string;
  /** Approximate MAXLEN of the target's request stream. */
  requestMaxLen: number;
}

/** A request waiting for its replies. */
interface PendingRequest {
  pattern: string;
  callback: (packet: WritePacket) => void;
  ticket: DeadlineTicket;
}

/** Event patterns whose stream name is remembered (callers choose patterns: the map must stay bounded). */
const MAX_CACHED_PATTERNS = 1_000;

/** How long one XREAD of the reply stream blocks, ms. */
const REPLY_BLOCK_MS = 5_000;

/**
 * The Nest `ClientProxy` of the transport, on the shared RedisModule connection:
 *
 * - `emit(pattern, data)` adds the event to the pattern's stream (`evt:<pattern>`) and completes once it is stored
 *   (durable: every service with a handler for it gets it, even one that starts later); rejects with
 *   `RedisUnavailableError` when Redis cannot be reached within the command timeout. With a
 *   {@link RedisStreamsRecord} carrying `delayMs` or `at`, the event waits in the stream's delayed set until due
 *   (as `StreamProducer.add(..., { delayMs })`); {@link cancel} removes it before then.
 * - `send(pattern, data)` adds a request to the target service's stream with a correlation id, this client's
 *   reply stream and a deadline; emits every reply, then completes. Fails with {@link RequestTimeoutError} when the
 *   last reply has not come within `requestTimeoutMs`, with the handler's error (Nest's RPC error shape) when it
 *   failed; unsubscribing stops the wait. A reply that comes after that is dropped (counted as late).
 *
 * Each instance reads its own reply stream (`reply:<instance>-<random>`) on one dedicated connection, opened at
 * the first `send()`. Inject the one RedisStreamsTransportModule provides (it targets `sendTo`), or register one per
 * service with `RedisStreamsClientsModule.register()`.
 */
export class RedisStreamsClient extends ClientProxy implements BeforeApplicationShutdown {
  private readonly log = new Logger('RedisStreamsClient');
  private readonly pending = new Map<string, PendingRequest>();
  /** Event pattern → its stream name, for the patterns already checked. */
  private readonly eventStreams = new Map<string, string>();
  private readonly replyTo: string;
  private reader: ReplyStreamReader | undefined;
  private sequence = 0;
  private closed = false;

  /**
   * @param redis the shared Redis provider
   * @param producer writes the events and requests (batched per stream and tick)
   * @param counters the transport counters
   */
  constructor(
    private readonly redis: RedisService,
    private readonly producer: StreamProducer,
    private readonly counters: TransportStats,
    private readonly settings: RedisStreamsClientSettings,
  ) {
    super();
    this.replyTo = replyStreamName(`${settings.instanceName}-${randomBytes(4).toString('hex')}`);
  }

  /** Service this client's `send()` targets (`undefined` for an emit-only client). */
  get service(): string | undefined {
    return this.settings.service;
  }

  /** App-facing name of this instance's reply stream. */
  get replyStream(): string {
    return this.replyTo;
  }

  /** Requests waiting for their replies. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Nothing to connect: the shared client is RedisModule's, the reply reader opens at the first `send()`. */
  connect(): Promise<void> {
    return Promise.resolve();
  }

  /** Stops the reply reader, fails the requests still waiting with {@link TransportClosedError}, drops the reply stream. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.ticket.settle();
      p.callback({ err: new TransportClosedError(p.pattern) });
    }
    if (this.reader) {
      await this.reader.stop();
      await this.redis
        .getClient(this.settings.clientName)
        .del(streamKey(this.redis.prefixFor(MESSAGING_FEATURE), this.replyTo))
        .catch(() => undefined);
    }
  }

  /** Closes before RedisModule closes the connections. */
  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** The shared Redis client. */
  unwrap<T>(): T {
    return this.redis.getClient(this.settings.clientName) as T;
  }

  /**
   * Emits an event: adds it at once (no subscription needed, like Nest's `emit`) and returns an Observable of its
   * stream id (or, for a delayed event, of the id {@link cancel} takes) that completes once it is stored. Nest's own
   * `emit` wraps the same call in `defer` + `mergeMap` + `connectable`; this skips that per-event cost.
   */
  override emit<TResult = string, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return super.emit(pattern, data); // Nest's InvalidMessageException
    }
    const stored = this.dispatchEvent<TResult>(this.createPacket(pattern, data));
    stored.catch(() => undefined); // the caller may never subscribe
    return new Observable<TResult>((subscriber) => {
      stored.then(
        (id) => {
          subscriber.next(id);
          subscriber.complete();
        },
        (err: unknown) => subscriber.error(err),
      );
    });
  }

  /**
   * Sends a request at subscription (like Nest's `send`); the Observable emits each reply, then completes. Skips
   * Nest's `defer` + `mergeMap` around it (nothing to connect first).
   */
  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return super.send(pattern, data); // Nest's InvalidMessageException
    }
    return new Observable<TResult>((observer) =>
      this.publish(this.createPacket(pattern, data), this.createObserver(observer)),
    );
  }

  /**
   * Cancels a delayed event of `pattern` that is not due yet. Resolves true when cancelled, false when it was moved
   * into the stream already (it will be handled), cancelled already, or unknown; rejects with `RedisUnavailableError`.
   * @param id what `emit` of the delayed record emitted
   */
  cancel(pattern: string, id: string): Promise<boolean> {
    return this.producer.cancel(eventStreamName(this.normalizePattern(pattern)), id);
  }

  /** Adds the request, waits for its replies on this instance's reply stream; returns the cancel function. */
  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const service = this.settings.service;
    if (service === undefined || this.closed) {
      callback({
        err:
          service === undefined
            ? new RedisConfigError('transport.sendTo', 'is required to send requests (no target service)')
            : new TransportClosedError(pattern),
      });
      return () => undefined;
    }
    const { data, headers: recordHeaders, timeoutMs: recordTimeoutMs, delay, durability } = unwrapRecord(packet.data);
    if (delay) {
      callback({ err: new RedisConfigError('RedisStreamsRecord.delayMs', 'applies to emit() only, not to send()') });
      return () => undefined;
    }
    this.ensureReader();
    const span = openSpan(`send ${pattern}`, rpcSpanStart('client', service, pattern)); // tracing on: until replied
    callback = endWithReplies(span, callback);
    const id = (++this.sequence).toString(36);
    const timeoutMs = recordTimeoutMs ?? this.settings.requestTimeoutMs;
    const ticket = deadlines.ticket(timeoutMs, () => {
      if (!this.pending.delete(id)) return;
      this.counters.inc('timeouts');
      callback({ err: new RequestTimeoutError(pattern, service, timeoutMs) });
    });
    this.pending.set(id, { pattern, callback, ticket });
    const headers = {
      ...packet.metadata,
      ...recordHeaders,
      [TRANSPORT_HEADERS.pattern]: pattern,
      [TRANSPORT_HEADERS.replyTo]: this.replyTo,
      [TRANSPORT_HEADERS.correlationId]: id,
      [TRANSPORT_HEADERS.deadline]: String(Date.now() + timeoutMs),
    };
    const addOptions = { headers, maxLen: this.settings.requestMaxLen, durability };
    const add = () => this.producer.add(requestStreamName(service), data, addOptions);
    (span ? span.run(add) : add()).then(
      () => this.counters.inc('requested'),
      (err: unknown) => {
        if (!this.pending.delete(id)) return;
        ticket.settle();
        callback({ err });
      },
    );
    return () => {
      if (!this.pending.delete(id)) return;
      ticket.settle();
      this.counters.inc('cancelled');
    };
  }

  /**
   * Adds the event to its pattern's stream, or schedules it (a record with a delay); resolves once stored with its
   * stream id, or for a delayed event with its envelope id (what {@link cancel} takes).
   */
  protected dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    let stream = this.eventStreams.get(pattern);
    if (stream === undefined) {
      try {
        check.keyPart('emit(pattern)', pattern);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      stream = eventStreamName(pattern);
      if (this.eventStreams.size < MAX_CACHED_PATTERNS) this.eventStreams.set(pattern, stream);
    }
    const { data, headers, delay, durability } = unwrapRecord(packet.data);
    const merged = headers ? { ...packet.metadata, ...headers } : packet.metadata;
    if (delay) {
      return this.producer.add(stream, data, { headers: merged, ...delay }).then(({ envelope }) => {
        this.counters.inc('emitted');
        this.counters.inc('emittedDelayed');
        return envelope.id as T;
      });
    }
    return this.producer.add(stream, data, { headers: merged, durability }).then(({ streamId }) => {
      this.counters.inc('emitted');
      return streamId as T;
    });
  }

  private ensureReader(): void {
    if (this.reader) return;
    this.reader = new ReplyStreamReader({
      redis: this.redis,
      clientName: this.settings.clientName,
      key: streamKey(this.redis.prefixFor(MESSAGING_FEATURE), this.replyTo),
      blockMs: REPLY_BLOCK_MS,
      logger: this.log,
      onReply: (id, text) => this.onReply(id, text),
    });
    this.reader.start();
  }

  /** Hands a reply to its request; one whose request is gone (timed out, cancelled) is dropped and counted. */
  private onReply(id: string | undefined, text: string): void {
    const packet = decodeReply(text);
    const request = id === undefined ? undefined : this.pending.get(id);
    if (!request || id === undefined) {
      // A bare completion after an error reply is not a reply of its own.
      if (packet.err !== undefined || packet.response !== undefined) this.counters.inc('lateReplies');
      return;
    }
    if (packet.err !== undefined || packet.isDisposed) {
      this.pending.delete(id);
      request.ticket.settle();
    }
    request.callback(packet);
  }
}

/** What a packet's data holds: a {@link RedisStreamsRecord}'s payload and options, or plain data. */
interface Unwrapped {
  data: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  delay?: { delayMs?: number; at?: Date };
  durability?: ReplicatedDurability;
}

/** The payload, headers, timeout, delay and durability of a packet's data (a {@link RedisStreamsRecord} or plain data). */
function unwrapRecord(data: unknown): Unwrapped {
  if (!(data instanceof RedisStreamsRecord)) return { data };
  return {
    data: data.data as unknown,
    headers: data.headers,
    timeoutMs: data.timeoutMs,
    delay: data.delayed ? { delayMs: data.delayMs, at: data.at } : undefined,
    durability: data.durability,
  };
}
