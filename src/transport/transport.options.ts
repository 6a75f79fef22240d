import { check } from '../core/option-checker';
import { validateConsumerSettings, withOverrides, type StreamConsumerSettings } from '../messaging/messaging.options';

/** Options of the Nest microservice transport on Redis Streams (`RedisStreamsTransportModule.forRoot`). */
export interface RedisStreamsTransportOptions {
  /**
   * Name of this application as a service: the consumer group of its `@EventPattern` handlers (each service gets
   * each event once, spread over its instances) and the request stream its `@MessagePattern` handlers serve.
   * Required to serve; a pure client may leave it out.
   */
  service?: string;
  /** Service that the injectable `RedisStreamsClient`'s `send()` targets (default: {@link service}). */
  sendTo?: string;
  /** How long `send()` waits for the last reply before failing with `RequestTimeoutError`, ms (default 5000). */
  requestTimeoutMs?: number;
  /**
   * Settings of the server's consumer loops (one per event pattern, one for the requests); unset ones come from
   * the module's `consumerDefaults`, except `concurrency`, 32 by default here (requests must not wait in line).
   */
  consumer?: Partial<StreamConsumerSettings>;
  /**
   * Approximate MAXLEN of each service's request stream (default 10000): requests are read once, and a backlog
   * past this is older than any caller still waits for.
   */
  requestMaxLen?: number;
  /** About how many replies each client's reply stream keeps (default 10000; `MAXLEN ~`, by entries of replies). */
  replyMaxLen?: number;
  /** Each reply extends its reply stream's life to this, ms (default 60000): a dead client's stream expires. */
  replyTtlMs?: number;
}

/** Transport options with every default filled in. */
export interface ResolvedTransportOptions {
  /** See {@link RedisStreamsTransportOptions.service}. */
  service: string | undefined;
  /** See {@link RedisStreamsTransportOptions.sendTo}. */
  sendTo: string | undefined;
  /** See {@link RedisStreamsTransportOptions.requestTimeoutMs}. */
  requestTimeoutMs: number;
  /** See {@link RedisStreamsTransportOptions.consumer}. */
  consumer: StreamConsumerSettings;
  /** See {@link RedisStreamsTransportOptions.requestMaxLen}. */
  requestMaxLen: number;
  /** See {@link RedisStreamsTransportOptions.replyMaxLen}. */
  replyMaxLen: number;
  /** See {@link RedisStreamsTransportOptions.replyTtlMs}. */
  replyTtlMs: number;
}

/** Default concurrency of the transport's consumer loops. */
export const TRANSPORT_DEFAULT_CONCURRENCY = 32;

/**
 * Validates `transport` and fills in defaults; throws {@link RedisConfigError} naming the option.
 * @param consumerDefaults the module's resolved `consumerDefaults`
 */
export function resolveTransportOptions(
  o: RedisStreamsTransportOptions | undefined,
  consumerDefaults: StreamConsumerSettings,
): ResolvedTransportOptions {
  check.object('transport', o);
  const t = o ?? {};
  check.object('transport.consumer', t.consumer);
  validateConsumerSettings('transport.consumer', t.consumer ?? {});
  const service = check.keyPart('transport.service', t.service);
  return {
    service,
    sendTo: check.keyPart('transport.sendTo', t.sendTo) ?? service,
    requestTimeoutMs: check.durationMs('transport.requestTimeoutMs', t.requestTimeoutMs, { min: 1 }) ?? 5_000,
    consumer: withOverrides({ ...consumerDefaults, concurrency: TRANSPORT_DEFAULT_CONCURRENCY }, t.consumer),
    requestMaxLen: check.positiveInt('transport.requestMaxLen', t.requestMaxLen) ?? 10_000,
    replyMaxLen: check.positiveInt('transport.replyMaxLen', t.replyMaxLen) ?? 10_000,
    replyTtlMs: check.durationMs('transport.replyTtlMs', t.replyTtlMs, { min: 1_000 }) ?? 60_000,
  };
}
