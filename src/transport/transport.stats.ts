import { Injectable } from '@nestjs/common';

/** Counters of the transport in this process since start (clients and server together); every field only grows. */
export interface TransportCounters {
  /** Events added by `emit()` (delayed ones included). */
  emitted: number;
  /** Events `emit()` scheduled with a delay (a record with `delayMs` or `at`). */
  emittedDelayed: number;
  /** Requests added by `send()`. */
  requested: number;
  /** Event handler runs that completed (the event is acked). */
  eventsHandled: number;
  /** Event handler runs that failed (retried, then dead-lettered: see the messaging counters). */
  eventsFailed: number;
  /** Requests a handler of this process answered (error replies included). */
  requestsHandled: number;
  /** Requests answered with an error (a thrown `RpcException`, a guard, a pipe, a missing handler...). */
  requestErrors: number;
  /** Requests dropped unprocessed because their caller's deadline had passed. */
  requestsExpired: number;
  /** Reply entries written to reply streams. */
  replies: number;
  /** Reply entries that could not be written (Redis unreachable): the caller times out. */
  replyFailures: number;
  /** `send()` calls that ended with `RequestTimeoutError`. */
  timeouts: number;
  /** Replies that arrived after their request timed out or was unsubscribed: dropped. */
  lateReplies: number;
  /** `send()` subscriptions cancelled (unsubscribed) before their last reply. */
  cancelled: number;
}

/** Process-wide transport counters, shared by {@link RedisStreamsServer} and every {@link RedisStreamsClient}. */
@Injectable()
export class TransportStats {
  private readonly counters: TransportCounters = {
    emitted: 0,
    emittedDelayed: 0,
    requested: 0,
    eventsHandled: 0,
    eventsFailed: 0,
    requestsHandled: 0,
    requestErrors: 0,
    requestsExpired: 0,
    replies: 0,
    replyFailures: 0,
    timeouts: 0,
    lateReplies: 0,
    cancelled: 0,
  };

  /** A copy of the counters. */
  get stats(): TransportCounters {
    return { ...this.counters };
  }

  /** Adds `n` (default 1) to one counter. */
  inc(name: keyof TransportCounters, n = 1): void {
    this.counters[name] += n;
  }
}
