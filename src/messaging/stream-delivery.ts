import type { Logger } from '@nestjs/common';
import { sleep } from '../core/deadline';
import { traceProcess } from '../core/tracing';
import type { RedisClient } from '../redis/redis.options';
import { parseEnvelope, type MessageEnvelope } from './message-envelope';
import { isMessageRejection, rejectionReason } from './message-rejection';
import type { MessagingStats } from './messaging.stats';
import { validatePayload, type PayloadDto } from './payload-validation';
import type { Delivery } from './stream-claimer';
import type { StreamDeadLetter } from './stream-dead-letter';
import type { StreamDelaySchedule } from './stream-delay.schedule';

/** What a stream handler gets besides the payload. */
export interface StreamMessage<T = unknown> {
  /** App-facing stream name. */
  stream: string;
  /** Consumer group handling it. */
  group: string;
  /** Id of the entry in the stream. */
  streamId: string;
  /** The whole envelope (id, type, occurredAt, headers). */
  envelope: MessageEnvelope<T>;
  /** 1 for the first attempt; counts retries (which travel with the message) and redeliveries after a crash. */
  attempt: number;
  /** When the message was due, for a delayed message or a retry (absent for a message added at once). */
  dueAt?: Date;
}

/** A stream handler: resolve to ack, throw to retry (then dead-letter). */
export type StreamHandler<T = unknown> = (payload: T, message: StreamMessage<T>) => unknown;

/** Everything handling a consumer's messages needs. */
export interface StreamDeliveryConfig {
  /** The shared client (looked up per call), for XCLAIM during retries. */
  client: () => RedisClient;
  /** App-facing stream name. */
  stream: string;
  /** Redis key of the stream. */
  key: string;
  /** Consumer group. */
  group: string;
  /** This consumer's name. */
  consumerName: string;
  /** `Class.method`, for logs. */
  label: string;
  /** The user's handler. */
  handler: StreamHandler;
  /** Validates payloads before the handler runs; an invalid one is dead-lettered at once. */
  dto?: PayloadDto;
  /** Attempts (first one included) before a failing message is dead-lettered. */
  maxAttempts: number;
  /** Pause before the first retry, doubled each retry (capped at {@link MAX_BACKOFF_MS}), ms. */
  backoffMs: number;
  /** How many messages of one batch are handled at the same time. */
  concurrency: number;
  /** Where messages given up on go. */
  deadLetter: Pick<StreamDeadLetter, 'move'>;
  stats: MessagingStats;
  logger: Logger;
  /** Aborted when the consumer stops: a retry pause ends at once and its message is left pending. */
  signal: AbortSignal;
  /**
   * Where retries wait (retries through the delay): a failed message is scheduled again after its backoff and
   * acked in the same call, so the consumer is free meanwhile. Without it, the consumer keeps the message and
   * waits out the backoff itself.
   */
  delayed?: Pick<StreamDelaySchedule, 'schedule'>;
}

/** Span attributes of one attempt (OpenTelemetry messaging conventions; `nrk.*` are the library's). */
function processAttributes(message: StreamMessage): Record<string, string | number> {
  return {
    'messaging.consumer.group.name': message.group,
    'messaging.message.id': message.envelope.id,
    'nrk.messaging.kind': 'stream',
    'nrk.messaging.stream_id': message.streamId,
    'nrk.messaging.attempt': message.attempt,
  };
}

/** Longest pause between two attempts of one message, ms. */
export const MAX_BACKOFF_MS = 5_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Handles a consumer's messages: parses and validates each one, calls the handler, retries a failure with
 * exponential backoff — through the delay when `delayed` is set (the retry, with its attempts, its group and its
 * first stream id, is scheduled again and the failed entry acked in one Lua call; only its group handles it, the
 * others ack it unseen), else keeping the message (XCLAIM resets its idle time, so no other consumer reclaims it
 * meanwhile) — and dead-letters a message that is invalid, refused ({@link isMessageRejection}: a guard, a pipe, a
 * 4xx `HttpException`; at once, with the reason) or has used up its `maxAttempts` (earlier deliveries to crashed
 * consumers included). Says which messages to ack; never throws.
 */
export class StreamDelivery {
  constructor(private readonly c: StreamDeliveryConfig) {}

  /**
   * Handles a batch with at most `concurrency` messages at a time; resolves with the ids to ack (handled ones).
   * Dead-lettered ones are acked by their dead-letter MULTI; failed ones left pending are not listed.
   */
  async batch(deliveries: Delivery[]): Promise<string[]> {
    const acks: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++];
        const done = this.one(delivery);
        if (done === true || (done !== false && (await done))) acks.push(delivery.id);
      }
    };
    // The first worker runs until a handler is asynchronous: synchronous handlers (a request that only starts its
    // work, a counter) need no other worker. Then up to `concurrency` workers share what is left.
    const first = worker();
    const more = Math.min(this.c.concurrency - 1, deliveries.length - next);
    if (more <= 0) await first;
    else await Promise.all([first, ...Array.from({ length: more }, worker)]);
    return acks;
  }

  /**
   * Handles one delivery; true when it should be acked. Synchronous (no promise) when the handler is, which keeps
   * the per-message cost low.
   */
  one(delivery: Delivery): boolean | Promise<boolean> {
    if (!delivery.fields) return true; // trimmed away while pending: nothing to do
    const { fields } = delivery;
    if (fields.group !== undefined && fields.group !== this.c.group) return true; // another group's retry
    if (fields.attempts !== undefined) {
      delivery = { ...delivery, priorAttempts: delivery.priorAttempts + Number(fields.attempts) };
    }
    const raw = fields.data ?? '';
    let envelope: MessageEnvelope;
    try {
      envelope = parseEnvelope(raw);
    } catch (err) {
      return this.invalid(delivery, raw, err);
    }
    if (this.c.dto) return this.validated(delivery, raw, envelope, this.c.dto);
    return this.attempt(delivery, raw, envelope, envelope.payload, delivery.priorAttempts);
  }

  private async validated(delivery: Delivery, raw: string, envelope: MessageEnvelope, dto: PayloadDto) {
    let payload: unknown;
    try {
      payload = await validatePayload(envelope.type, dto, envelope.payload);
    } catch (err) {
      return this.invalid(delivery, raw, err);
    }
    return this.attempt(delivery, raw, envelope, payload, delivery.priorAttempts);
  }

  private async invalid(delivery: Delivery, raw: string, err: unknown): Promise<boolean> {
    this.c.stats.inc('invalid');
    this.c.logger.warn(`${this.c.label}: message ${delivery.id} is invalid (${errorText(err)}); moved to the DLQ`);
    await this.c.deadLetter.move(delivery, raw, errorText(err), delivery.priorAttempts);
    return false;
  }

  /** One attempt after `before` earlier ones; on failure, backoff and the next attempt, or the DLQ. */
  private attempt(
    delivery: Delivery,
    raw: string,
    envelope: MessageEnvelope,
    payload: unknown,
    before: number,
  ): boolean | Promise<boolean> {
    if (before >= this.c.maxAttempts) {
      const why = `delivered ${before} time(s) without an ack (consumer crashes?)`;
      return this.c.deadLetter.move(delivery, raw, why, before).then(() => false);
    }
    const attempt = before + 1;
    try {
      const message: StreamMessage = {
        stream: this.c.stream,
        group: this.c.group,
        streamId: delivery.id,
        envelope,
        attempt,
        ...(delivery.fields?.dueAt ? { dueAt: new Date(Number(delivery.fields.dueAt)) } : {}),
      };
      // Tracing on: a consumer span, child of the producer's span carried in the headers.
      const result = traceProcess(
        this.c.stream,
        envelope.headers,
        () => processAttributes(message),
        () => this.c.handler(payload, message),
      );
      if (!(result instanceof Promise)) {
        this.c.stats.inc('handled');
        return true;
      }
      return result.then(
        () => {
          this.c.stats.inc('handled');
          return true;
        },
        (err: unknown) => this.failed(delivery, raw, envelope, payload, attempt, err),
      );
    } catch (err) {
      return this.failed(delivery, raw, envelope, payload, attempt, err);
    }
  }

  private async failed(
    delivery: Delivery,
    raw: string,
    envelope: MessageEnvelope,
    payload: unknown,
    attempt: number,
    err: unknown,
  ): Promise<boolean> {
    const c = this.c;
    if (isMessageRejection(err)) {
      const reason = rejectionReason(err);
      c.stats.inc('rejected');
      c.logger.warn(`${c.label}: message ${delivery.id} refused on attempt ${attempt}, moved to the DLQ: ${reason}`);
      await c.deadLetter.move(delivery, raw, reason, attempt);
      return false;
    }
    c.stats.inc('failed');
    if (attempt >= c.maxAttempts) {
      c.logger.error(
        `${c.label}: message ${delivery.id} failed ${attempt} time(s), moved to the DLQ: ${errorText(err)}`,
      );
      await c.deadLetter.move(delivery, raw, errorText(err), attempt);
      return false;
    }
    c.logger.warn(`${c.label}: message ${delivery.id} attempt ${attempt} failed: ${errorText(err)}`);
    const backoffMs = Math.min(c.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
    if (c.delayed) return this.reschedule(c.delayed, delivery, raw, attempt, backoffMs);
    c.stats.inc('retried');
    await sleep(backoffMs, { signal: c.signal });
    if (c.signal.aborted) return false; // stopping: leave it pending, another consumer reclaims it
    // Keep ownership: reset the idle time so no other consumer reclaims it during our retries.
    await c
      .client()
      .call('XCLAIM', c.key, c.group, c.consumerName, '0', delivery.id, 'JUSTID')
      .catch(() => undefined);
    return this.attempt(delivery, raw, envelope, payload, attempt);
  }

  /**
   * Schedules the next attempt of a failed message after `backoffMs` and acks this entry, in one call; false (the
   * ack is done). When Redis refuses, the entry stays pending and is reclaimed later with its attempts.
   */
  private async reschedule(
    delayed: Pick<StreamDelaySchedule, 'schedule'>,
    delivery: Delivery,
    raw: string,
    attempt: number,
    backoffMs: number,
  ): Promise<boolean> {
    const c = this.c;
    const sourceId = delivery.fields?.sourceId ?? delivery.id;
    const fields = ['data', raw, 'attempts', String(attempt), 'group', c.group, 'sourceId', sourceId];
    try {
      await delayed.schedule(
        c.stream,
        `${sourceId}:${c.group}:${attempt}`,
        fields,
        { delayMs: backoffMs },
        {
          group: c.group,
          entryId: delivery.id,
        },
      );
      c.stats.inc('retried');
    } catch (err) {
      c.logger.warn(`${c.label}: could not schedule the retry of ${delivery.id} (${errorText(err)}); left pending`);
    }
    return false;
  }
}
