import { check } from '../core/option-checker';

/** Options of one {@link RedisStreamsRecord}. */
export interface RedisStreamsRecordOptions {
  /** Headers of this message (with the client's dispatch-hook metadata; these win), e.g. `{ traceId }`. */
  headers?: Record<string, string>;
  /** `send()` only: this request's timeout, ms (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
}

/**
 * Data with per-message options, the way Nest's transports take records (`RmqRecord`, `MqttRecord`...):
 * `client.send('stock.reserve', new RedisStreamsRecord(body, { headers: { traceId }, timeoutMs: 1_000 }))`.
 * The handler gets `data` as its payload and the headers in its `RedisStreamsContext`.
 */
export class RedisStreamsRecord<T = unknown> {
  /** The headers, checked (string values only). */
  readonly headers: Record<string, string> | undefined;
  /** The request timeout, ms, when set. */
  readonly timeoutMs: number | undefined;

  /**
   * @param data the payload
   * @param options headers and timeout; bad values throw a `RedisConfigError` naming them
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
  }
}
