import { check } from '../core/option-checker';
import { resolveDurability, type ReplicatedDurability } from '../messaging/stream-durability';

/** Options of one {@link RedisStreamsRecord}. */
export interface RedisStreamsRecordOptions {
  /** Headers of this message (with the client's dispatch-hook metadata; these win), e.g. `{ traceId }`. */
  headers?: Record<string, string>;
  /** `send()` only: this request's timeout, ms (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
  /**
   * `emit()` only: deliver the event no earlier than this many ms from now (Redis clock), like
   * `StreamProducer.add(stream, payload, { delayMs })`. 0 or absent = at once. Not with `at`.
   */
  delayMs?: number;
  /** `emit()` only: deliver the event no earlier than this time (a time past = at once). Not with `delayMs`. */
  at?: Date;
  /**
   * `{ durability: 'replicated', replicas, timeoutMs }`: `emit()` resolves (and `send()`'s request counts as sent) only
   * once `replicas` replicas have the message (`WAIT`), else fails with `ReplicationTimeoutError`, as
   * `StreamProducer.add(..., { durability })`. Not with a delay.
   */
  durability?: ReplicatedDurability;
}

/**
 * Data with per-message options, the way Nest's transports take records (`RmqRecord`, `MqttRecord`...):
 * `client.send('stock.reserve', new RedisStreamsRecord(body, { headers: { traceId }, timeoutMs: 1_000 }))`,
 * `client.emit('order.reminder', new RedisStreamsRecord(body, { delayMs: 30 * 60_000 }))`. The handler gets `data` as
 * its payload and the headers in its `RedisStreamsContext`.
 */
export class RedisStreamsRecord<T = unknown> {
  /** The headers, checked (string values only). */
  readonly headers: Record<string, string> | undefined;
  /** The request timeout, ms, when set. */
  readonly timeoutMs: number | undefined;
  /** The event's delay, ms, when set (> 0). */
  readonly delayMs: number | undefined;
  /** When the event is due, when set. */
  readonly at: Date | undefined;
  /** The replicated-write option, when set (checked). */
  readonly durability: ReplicatedDurability | undefined;

  /**
   * @param data the payload
   * @param options headers, timeout, delay, durability; bad values throw a `RedisConfigError` naming them
   */
  constructor(
    readonly data: T,
    options: RedisStreamsRecordOptions = {},
  ) {
    const headers = check.object('RedisStreamsRecord.headers', options.headers);
    if (headers) {
      for (const [name, value] of Object.entries(headers)) check.string(`RedisStreamsRecord.headers.${name}`, value);
    }
    this.headers = options.headers;
    this.timeoutMs = check.durationMs('RedisStreamsRecord.timeoutMs', options.timeoutMs, { min: 1 });
    const delayMs = check.durationMs('RedisStreamsRecord.delayMs', options.delayMs);
    this.delayMs = delayMs === 0 ? undefined : delayMs;
    const { at } = options;
    if (at !== undefined && (!(at instanceof Date) || Number.isNaN(at.getTime()))) {
      check.fail('RedisStreamsRecord.at', 'must be a valid Date');
    }
    if (at !== undefined && options.delayMs !== undefined) {
      check.fail('RedisStreamsRecord.delayMs', 'cannot be combined with at');
    }
    this.at = at;
    if (options.durability !== undefined) {
      resolveDurability(options.durability);
      if (this.delayed) check.fail('RedisStreamsRecord.durability', 'cannot be combined with delayMs / at');
    }
    this.durability = options.durability;
  }

  /** True when the record delays its event (`delayMs` > 0 or `at`). */
  get delayed(): boolean {
    return this.delayMs !== undefined || this.at !== undefined;
  }
}

/**
 * Builds a {@link RedisStreamsRecord} the way Nest's `RmqRecordBuilder` builds an `RmqRecord`:
 * `client.emit('order.reminder', new RedisStreamsRecordBuilder(body).setOptions({ delayMs: 60_000 }).build())`.
 * Options set twice are merged (the later call wins per option).
 */
export class RedisStreamsRecordBuilder<T = unknown> {
  private options: RedisStreamsRecordOptions = {};

  /** @param data the payload (or set it with {@link setData}) */
  constructor(private data?: T) {}

  /** Adds options (headers, timeoutMs, delayMs, at, durability); returns the builder. */
  setOptions(options: RedisStreamsRecordOptions): this {
    this.options = { ...this.options, ...options };
    return this;
  }

  /** Sets the payload; returns the builder. */
  setData(data: T): this {
    this.data = data;
    return this;
  }

  /** The record; bad options throw a `RedisConfigError` naming them. */
  build(): RedisStreamsRecord<T> {
    return new RedisStreamsRecord(this.data as T, this.options);
  }
}
