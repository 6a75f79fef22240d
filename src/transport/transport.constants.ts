/** Transport id of {@link RedisStreamsServer}: `@EventPattern(pattern, REDIS_STREAMS_TRANSPORT)` binds to it only. */
export const REDIS_STREAMS_TRANSPORT: unique symbol = Symbol('REDIS_STREAMS');

/** Headers the transport writes into each message envelope (besides `traceId` and the caller's metadata). */
export const TRANSPORT_HEADERS = {
  /** The `@MessagePattern` pattern of a request (its route, as Nest normalizes it). */
  pattern: 'nrk-pattern',
  /** App-facing name of the caller's reply stream, `reply:<client id>`. */
  replyTo: 'nrk-reply-to',
  /** Id of the request among its client's requests; each reply carries it. */
  correlationId: 'nrk-correlation-id',
  /** Epoch ms after which the caller no longer waits: the request is then dropped unprocessed. */
  deadline: 'nrk-deadline',
} as const;

/** Text of the error reply to a request no handler of the service matches (Nest's own wording). */
export const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/** Injection token of `RedisStreamsTransportModule.forRoot` options. */
export const TRANSPORT_MODULE_OPTIONS = 'nest-redis-kit:transport:options';
