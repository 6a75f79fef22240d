import { Inject, Injectable } from '@nestjs/common';
import { toRedisUnavailable } from '../redis/redis.errors';
import { RedisService } from '../redis/redis.service';
import { MESSAGING_FEATURE } from './messaging.constants';
import type { ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import { MessagingStats, type MessagingCounters } from './messaging.stats';
import { createEnvelope, encodeEnvelope, type MessageEnvelope, type MessageHeaders } from './message-envelope';
import { tracePublish } from '../core/tracing';
import { deadLetterKey, delayedKeys, streamKey } from './messaging.keys';
import { StreamDelayMover } from './stream-delay.mover';
import { delayOf, StreamDelaySchedule } from './stream-delay.schedule';
import { StreamAppendBatcher } from './stream-append.batcher';
import { parseEntries, parseFlatObject } from './stream-replies';
import {
  addReplicated,
  ReplicationTimeoutError,
  resolveDurability,
  type ReplicatedDurability,
} from './stream-durability';

/** Options of {@link StreamProducer.add}. */
export interface StreamAddOptions {
  /** Approximate MAXLEN for this add (default: the module's `streamMaxLen`; 0 = no trimming). */
  maxLen?: number;
  /** Headers to carry; `traceId` is generated when missing. */
  headers?: Partial<MessageHeaders>;
  /**
   * Deliver no earlier than this many ms from now (Redis clock): the message waits in the stream's delayed set and
   * is moved into the stream once due. 0 or absent = at once. Not with `at`.
   */
  delayMs?: number;
  /** Deliver no earlier than this time (a time past = at the next move). Not with `delayMs`. */
  at?: Date;
  /**
   * `{ durability: 'replicated', replicas, timeoutMs }`: resolve only once `replicas` replicas have the message
   * (`WAIT`), else reject with `ReplicationTimeoutError` (see {@link ReplicatedDurability}). Default: acknowledged
   * by the master (asynchronous replication). Not with `delayMs` / `at`.
   */
  durability?: ReplicatedDurability;
}

/** What {@link StreamProducer.add} resolves with. */
export interface StreamAddResult<T> {
  /**
   * Id of the entry in the stream; `''` for a delayed message, which gets its id when it is moved into the stream
   * (its handler sees it as `message.streamId`).
   */
  streamId: string;
  /** The envelope stored; `envelope.id` is what {@link StreamProducer.cancel} takes for a delayed message. */
  envelope: MessageEnvelope<T>;
  /** When a delayed message is due (Redis clock); absent for a message added at once. */
  dueAt?: Date;
  /** With `durability: 'replicated'`: the replicas that confirmed the message. */
  replicatedTo?: number;
}

/** A consumer group as reported by XINFO GROUPS, for metrics. */
export interface StreamGroupInfo {
  /** Group name. */
  name: string;
  /** Consumers known to the group. */
  consumers: number;
  /** Messages delivered but not yet acked. */
  pending: number;
  /** Id of the last message delivered to the group. */
  lastDeliveredId: string;
  /** Messages in the stream not yet delivered to the group (null when Redis cannot tell, e.g. after trimming). */
  lag: number | null;
}

/** Length and groups of one stream and its DLQ. */
export interface StreamInfo {
  /** Entries in the stream (XLEN). */
  length: number;
  /** Entries in `<stream>:dlq`. */
  deadLetters: number;
  /** Every consumer group. */
  groups: StreamGroupInfo[];
}

/** One dead-lettered message as stored in `<stream>:dlq`. */
export interface DeadLetter {
  /** Id in the DLQ stream. */
  id: string;
  /** Id the message had on the main stream. */
  sourceId: string;
  /** The raw message text (may be invalid JSON). */
  data: string;
  /** Last error message. */
  error: string;
  /** Attempts made. */
  attempts: number;
  /** Group that gave up on it. */
  group: string;
}

/**
 * Adds messages to durable streams (XADD with approximate MAXLEN trimming) and reports stream length,
 * consumer-group lag and dead letters. Keys are `<prefix>msg:stream:{<name>}`.
 */
@Injectable()
export class StreamProducer {
  private readonly appender = new StreamAppendBatcher(() => this.redis.getClient(this.options.clientName), ['data']);
  private readonly delayed: StreamDelaySchedule;

  constructor(
    private readonly redis: RedisService,
    private readonly counters: MessagingStats,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
    mover: StreamDelayMover,
  ) {
    this.delayed = new StreamDelaySchedule(
      () => this.redis.getClient(this.options.clientName),
      (name) => this.key(name),
      mover,
    );
  }

  /** Process-wide messaging counters (published, handled, failed, deadLettered, invalid...). */
  get stats(): MessagingCounters {
    return this.counters.snapshot();
  }

  /** The Redis key of stream `name`. */
  key(name: string): string {
    return streamKey(this.redis.prefixFor(MESSAGING_FEATURE), name);
  }

  /** The Redis key of the DLQ of stream `name`. */
  deadLetterKey(name: string): string {
    return deadLetterKey(this.redis.prefixFor(MESSAGING_FEATURE), name);
  }

  /**
   * Appends `payload` (in an envelope) to stream `name`, or with `delayMs` / `at` schedules it: it waits in the
   * stream's delayed set (same hash tag as the stream) until due, then one Lua call moves it into the stream, where
   * every group gets it like any other message. Resolves once stored; rejects with {@link RedisUnavailableError}
   * when Redis is unreachable (never drops silently), with a `RangeError` for an unusable `delayMs` / `at`.
   */
  add<T>(name: string, payload: T, options: StreamAddOptions = {}): Promise<StreamAddResult<T>> {
    // Tracing on: a producer span, whose context the message carries (traceparent / tracestate headers).
    return tracePublish(name, 'stream', options.headers, (headers, span) => {
      const envelope = createEnvelope(name, payload, headers);
      span?.setAttribute('messaging.message.id', envelope.id);
      return this.addEnvelope(name, envelope, options);
    });
  }

  /** {@link add} of a built envelope. */
  private addEnvelope<T>(
    name: string,
    envelope: MessageEnvelope<T>,
    options: StreamAddOptions,
  ): Promise<StreamAddResult<T>> {
    let text: string;
    let delay: { delayMs?: number; atMs?: number } | undefined;
    try {
      delay = delayOf(options);
      text = encodeEnvelope(envelope);
      if (options.durability) {
        if (delay) throw new RangeError("durability 'replicated' cannot be combined with delayMs / at");
        return this.addDurable(name, text, options.durability, options.maxLen, envelope);
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err))); // e.g. a BigInt in the payload
    }
    if (delay) {
      return this.delayed.schedule(name, envelope.id, ['data', text], delay).then((dueAt) => {
        this.counters.inc('delayed');
        return { streamId: '', envelope, dueAt };
      });
    }
    return this.addRaw(name, text, options.maxLen).then((streamId) => ({ streamId, envelope }));
  }

  /**
   * Cancels a delayed message of stream `name` that is not due yet. Resolves true when cancelled, false when it
   * was moved into the stream already (or cancelled, or unknown); rejects with {@link RedisUnavailableError}.
   * @param id the message's `envelope.id` (from {@link add})
   */
  async cancel(name: string, id: string): Promise<boolean> {
    const cancelled = await this.delayed.cancel(name, id);
    if (cancelled) this.counters.inc('delayedCancelled');
    return cancelled;
  }

  /** Delayed messages of stream `name` waiting to be due (ZCARD of its delayed set; retries included). */
  async delayedCount(name: string): Promise<number> {
    return this.redis.getClient(this.options.clientName).zcard(delayedKeys(this.key(name)).schedule);
  }

  /** `add` with `durability: 'replicated'`: XADD + WAIT on the stream's connection (stream-durability.ts). */
  private addDurable<T>(
    name: string,
    data: string,
    option: ReplicatedDurability,
    maxLen: number | undefined,
    envelope: MessageEnvelope<T>,
  ): Promise<StreamAddResult<T>> {
    const durability = resolveDurability(option);
    const client = this.redis.getClient(this.options.clientName);
    return addReplicated(client, name, this.xaddArgs(name, data, maxLen), durability).then(
      (r) => {
        this.counters.inc('added');
        return { ...r, envelope };
      },
      (err: unknown) => {
        if (err instanceof ReplicationTimeoutError) {
          this.counters.inc('added');
          throw err;
        }
        throw toRedisUnavailable(err, `Could not add to stream "${name}"`);
      },
    );
  }

  private xaddArgs(name: string, data: string, maxLen = this.options.streamMaxLen): string[] {
    return maxLen > 0
      ? ['XADD', this.key(name), 'MAXLEN', '~', String(maxLen), '*', 'data', data]
      : ['XADD', this.key(name), '*', 'data', data];
  }

  /** Appends an already encoded message text (advanced: replaying a dead letter, tests). */
  addRaw(name: string, data: string, maxLen = this.options.streamMaxLen): Promise<string> {
    // Adds issued in the same tick go out as one command per stream (one slot on Cluster).
    return this.appender.append(this.key(name), [data], maxLen).then(
      (id) => {
        this.counters.inc('added');
        return id;
      },
      (err: unknown) => {
        throw toRedisUnavailable(err, `Could not add to stream "${name}"`);
      },
    );
  }

  /** Stream length, DLQ length and every group's pending count and lag (XINFO GROUPS), for metrics. */
  async info(name: string): Promise<StreamInfo> {
    const client = this.redis.getClient(this.options.clientName);
    const [length, deadLetters] = await Promise.all([
      client.xlen(this.key(name)),
      client.xlen(this.deadLetterKey(name)),
    ]);
    let groupsReply: unknown = [];
    try {
      groupsReply = await client.call('XINFO', 'GROUPS', this.key(name));
    } catch (err) {
      if (!/no such key/i.test((err as Error).message)) throw err;
    }
    const groups = (Array.isArray(groupsReply) ? groupsReply : []).map((g): StreamGroupInfo => {
      const o = parseFlatObject(g);
      return {
        name: String(o.name),
        consumers: Number(o.consumers ?? 0),
        pending: Number(o.pending ?? 0),
        lastDeliveredId: String(o['last-delivered-id'] ?? ''),
        lag: o.lag === null || o.lag === undefined ? null : Number(o.lag),
      };
    });
    return { length, deadLetters, groups };
  }

  /** The oldest `count` dead letters of stream `name` (XRANGE on `<stream>:dlq`). */
  async deadLetters(name: string, count = 100): Promise<DeadLetter[]> {
    const client = this.redis.getClient(this.options.clientName);
    const reply = await client.call('XRANGE', this.deadLetterKey(name), '-', '+', 'COUNT', String(count));
    return parseEntries(reply).map((e) => ({
      id: e.id,
      sourceId: e.fields?.sourceId ?? '',
      data: e.fields?.data ?? '',
      error: e.fields?.error ?? '',
      attempts: Number(e.fields?.attempts ?? 0),
      group: e.fields?.group ?? '',
    }));
  }
}
