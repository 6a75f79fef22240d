import { Injectable } from '@nestjs/common';

/** Counters of one process since start; read them for metrics. */
export interface MessagingCounters {
  /** Pub/sub messages published by this process. */
  published: number;
  /** Pub/sub messages received (before dispatch to handlers). */
  received: number;
  /** Successful handler runs (pub/sub) and acked stream messages. */
  handled: number;
  /** Handler runs that threw (pub/sub), and stream attempts that failed (each retry counts). */
  failed: number;
  /** Stream messages moved to `<stream>:dlq`. */
  deadLettered: number;
  /** Messages that were not valid JSON / envelopes or failed DTO validation. */
  invalid: number;
  /** Stream messages added by this process. */
  added: number;
  /** Stream retries scheduled after a failed attempt. */
  retried: number;
  /** Stream messages reclaimed from other (dead) consumers with XAUTOCLAIM. */
  reclaimed: number;
  /**
   * Messages refused by a guard, a pipe (`ValidationPipe`) or a 4xx `HttpException`: pub/sub ones dropped,
   * stream ones dead-lettered at once.
   */
  rejected: number;
  /** Stream messages scheduled for later by this process (`delayMs` / `at`; retries are counted as `retried`). */
  delayed: number;
  /** Delayed messages (retries included) this process moved into their stream once due. */
  delayedMoved: number;
  /** Delayed messages cancelled before they were due. */
  delayedCancelled: number;
  /** Sum of the moved messages' lateness (moved at minus due at, Redis clock), ms. */
  delayedLatenessMs: number;
  /** Largest lateness of a moved message since start, ms. */
  delayedLatenessMaxMs: number;
}

/** Process-wide messaging counters, shared by the event bus and the stream consumers. */
@Injectable()
export class MessagingStats {
  private readonly counters: MessagingCounters = {
    published: 0,
    received: 0,
    handled: 0,
    failed: 0,
    deadLettered: 0,
    invalid: 0,
    added: 0,
    retried: 0,
    reclaimed: 0,
    rejected: 0,
    delayed: 0,
    delayedMoved: 0,
    delayedCancelled: 0,
    delayedLatenessMs: 0,
    delayedLatenessMaxMs: 0,
  };

  /** A copy of the counters (what metrics read; every field only grows). */
  get stats(): MessagingCounters {
    return { ...this.counters };
  }

  /** A copy of the counters (same as {@link stats}). */
  snapshot(): MessagingCounters {
    return this.stats;
  }

  /** Adds `n` (default 1) to one counter. */
  inc(name: keyof MessagingCounters, n = 1): void {
    this.counters[name] += n;
  }

  /** Records `count` delayed messages moved into their stream, late by `latenessSumMs` in all and `latenessMaxMs` at most. */
  moved(count: number, latenessSumMs: number, latenessMaxMs: number): void {
    this.counters.delayedMoved += count;
    this.counters.delayedLatenessMs += latenessSumMs;
    this.counters.delayedLatenessMaxMs = Math.max(this.counters.delayedLatenessMaxMs, latenessMaxMs);
  }
}
