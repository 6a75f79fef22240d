import { BaseRpcContext } from '@nestjs/microservices';
import type { MessageHeaders } from '../messaging/message-envelope';

/** What a {@link RedisStreamsContext} holds. */
export interface RedisStreamsContextArgs {
  /** App-facing stream name: `evt:<pattern>` for an event, `rpc:<service>` for a request. */
  stream: string;
  /** Id of the entry in the stream. */
  messageId: string;
  /** 1 for the first attempt; counts retries and redeliveries. */
  attempt: number;
  /** The envelope's headers: `traceId`, the caller's metadata, the transport's own. */
  headers: MessageHeaders;
  /** Epoch ms after which the caller no longer waits (requests only). */
  deadline: number | undefined;
  /** The pattern, as Nest normalizes it. */
  pattern: string;
  /** Id of the envelope (unique per message, kept across retries). */
  envelopeId: string;
  /** When a delayed event (or a retry) was due; absent for an event emitted at once and for requests. */
  dueAt?: Date;
}

/** The `@Ctx()` of `@EventPattern` / `@MessagePattern` handlers served by {@link RedisStreamsServer}. */
export class RedisStreamsContext extends BaseRpcContext<[RedisStreamsContextArgs]> {
  /** @param args what the handler may read */
  constructor(args: RedisStreamsContextArgs) {
    super([args]);
  }

  private get a(): RedisStreamsContextArgs {
    return this.args[0];
  }

  /** App-facing stream name (`evt:<pattern>` or `rpc:<service>`). */
  getStream(): string {
    return this.a.stream;
  }

  /** Id of the entry in the stream. */
  getMessageId(): string {
    return this.a.messageId;
  }

  /** Id of the envelope, the same on every attempt (an idempotency key). */
  getEnvelopeId(): string {
    return this.a.envelopeId;
  }

  /** 1 for the first attempt. */
  getAttempt(): number {
    return this.a.attempt;
  }

  /** Every header of the message. */
  getHeaders(): MessageHeaders {
    return this.a.headers;
  }

  /** The trace id the message carries. */
  getTraceId(): string {
    return this.a.headers.traceId;
  }

  /** Epoch ms after which the caller of a request no longer waits; `undefined` for an event. */
  getDeadline(): number | undefined {
    return this.a.deadline;
  }

  /** The pattern. */
  getPattern(): string {
    return this.a.pattern;
  }

  /** When a delayed event (a record with `delayMs` / `at`) or a retry was due; `undefined` otherwise. */
  getDueAt(): Date | undefined {
    return this.a.dueAt;
  }
}
