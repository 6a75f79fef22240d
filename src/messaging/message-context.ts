import type { ArgumentsHost } from '@nestjs/common';
import type { MessageEnvelope, MessageHeaders } from './message-envelope';
import type { StreamMessage } from './stream-delivery';

/**
 * What `ExecutionContext.getType()` (and `ArgumentsHost.getType()`) returns while an `@OnMessage` or
 * `@StreamConsumer` handler runs through Nest's pipeline: a guard, interceptor or filter switches on it
 * (`if (context.getType<MessageContextType>() === MESSAGE_CONTEXT_TYPE)`), and HTTP-only ones skip it
 * (`if (context.getType() !== 'http') return true`).
 */
export const MESSAGE_CONTEXT_TYPE = 'redis-message';

/** The type of {@link MESSAGE_CONTEXT_TYPE}, for `getType<MessageContextType>()`. */
export type MessageContextType = typeof MESSAGE_CONTEXT_TYPE;

/** What every message context says, whatever the delivery. */
interface MessageContextBase<T> {
  /** The message's unique id (the envelope's `id`, a UUID): the idempotency key. */
  readonly messageId: string;
  /** The message's headers; `traceId` is always there. */
  readonly headers: MessageHeaders;
  /** The trace the message belongs to (`headers.traceId`). */
  readonly traceId: string;
  /** 1 for the first attempt; stream redeliveries (retries, reclaims after a crash) count up. Always 1 on pub/sub. */
  attempt: number;
  /** The whole envelope (id, type, occurredAt, payload as sent, headers). */
  envelope: MessageEnvelope<T>;
}

/** The context of a pub/sub message (`@OnMessage`). */
export interface PubSubMessageContext<T = unknown> extends MessageContextBase<T> {
  /** Which delivery: `pubsub`. */
  readonly transport: 'pubsub';
  /** App-facing channel the message was published on (`order.confirmed`). */
  readonly channel: string;
  /** The pattern the handler subscribed with (`order.*`), for a pattern subscription. */
  readonly pattern?: string;
}

/** The context of a stream message (`@StreamConsumer`): the {@link StreamMessage} plus the common fields. */
export interface StreamMessageContext<T = unknown> extends MessageContextBase<T>, StreamMessage<T> {
  /** Which delivery: `stream`. */
  readonly transport: 'stream';
}

/**
 * What `@MessageCtx()` gives a handler, and `switchToRpc().getContext()` gives a guard, interceptor or filter:
 * the message's id, headers, attempt and where it came from. Switch on `transport` for the delivery's own fields.
 */
export type MessageContext<T = unknown> = PubSubMessageContext<T> | StreamMessageContext<T>;

/** The context of a pub/sub message received on `channel`'s subscription (`pattern` for a pattern one). */
export function pubSubContext<T>(envelope: MessageEnvelope<T>, pattern: string | undefined): PubSubMessageContext<T> {
  return {
    transport: 'pubsub',
    channel: envelope.type,
    pattern,
    messageId: envelope.id,
    headers: envelope.headers,
    traceId: envelope.headers.traceId,
    attempt: 1,
    envelope,
  };
}

/** The context of one attempt at a stream message. */
export function streamContext<T>(message: StreamMessage<T>): StreamMessageContext<T> {
  const { envelope } = message;
  return {
    transport: 'stream',
    stream: message.stream,
    group: message.group,
    streamId: message.streamId,
    messageId: envelope.id,
    headers: envelope.headers,
    traceId: envelope.headers.traceId,
    attempt: message.attempt,
    envelope,
  };
}

/**
 * The message context of `host` (a guard's or interceptor's `ExecutionContext`, a filter's `ArgumentsHost`) when
 * it runs for an `@OnMessage` / `@StreamConsumer` handler; `undefined` for anything else (an HTTP request...).
 */
export function messageContextOf(host: ArgumentsHost): MessageContext | undefined {
  return host.getType<string>() === MESSAGE_CONTEXT_TYPE ? host.switchToRpc().getContext<MessageContext>() : undefined;
}
