import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { OutageBreaker } from '../core/outage-breaker';
import { MESSAGING_SYSTEM, recordSpan } from '../core/tracing';
import { isRedisConnectionError } from '../redis/redis.errors';
import { RedisService } from '../redis/redis.service';
import { delayedKeys } from './messaging.keys';
import type { ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';
import { MessagingStats } from './messaging.stats';
import { MOVE_DUE } from './messaging.scripts';

/** Most due entries one Lua call moves (a larger backlog takes several calls in a row). */
export const MOVE_BATCH = 500;

/** Span attributes of a move that moved something (tracing on). */
function moveAttributes(key: string, moved: number, latenessMaxMs: number): Record<string, string | number> {
  return {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.destination.name': /\{(.*)\}/.exec(key)?.[1] ?? key,
    'messaging.batch.message_count': moved,
    'nrk.messaging.lateness_max_ms': latenessMaxMs,
  };
}

/** A stream whose delayed entries this process moves. */
interface WatchedStream {
  /** Consumer loops of this process on the stream: watched while > 0, else until its schedule is empty. */
  consumers: number;
  /** When (local clock, epoch ms) its earliest known entry is due; Infinity when none is known. */
  nextAtMs: number;
  /** Earliest due time of the entries scheduled by this process while a move call was in flight. */
  notedAtMs: number;
}

/** What one {@link MOVE_DUE} call answers. */
type MoveReply = [moved: number, nowMs: number, nextDueMs: number, latenessSumMs: number, latenessMaxMs: number];

/**
 * Moves due delayed entries into their streams, for the streams consumed in this process and the ones it scheduled
 * entries on. One timer per process, set for the earliest due time it knows of, and a poll every `delayedPollMs` as
 * a fallback for the entries other instances scheduled. Each pass is one Lua call per stream ({@link MOVE_DUE}):
 * any number of instances may move the same stream, an entry is moved once. Redis being unreachable is logged once
 * per outage; the polls go on and the moves resume with Redis.
 */
@Injectable()
export class StreamDelayMover implements OnModuleDestroy {
  private readonly logger = new Logger('Messaging');
  private readonly streams = new Map<string, WatchedStream>();
  private readonly breaker = new OutageBreaker({
    subject: 'the delayed-message mover',
    fallback: 'delayed messages wait in Redis',
    probeIntervalMs: 1_000,
    logger: this.logger,
  });
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private nextPollAtMs = 0;
  private pass: Promise<void> | undefined;
  private closed = false;
  private lastError: string | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly stats: MessagingStats,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /**
   * Moves the due entries of the stream whose key is `key` for as long as the returned function is not called
   * (a consumer loop watches its stream while it runs).
   */
  watch(key: string): () => void {
    const stream = this.stream(key);
    stream.consumers++;
    stream.nextAtMs = Date.now(); // a first pass at once: entries may have come due while no one moved them
    this.arm();
    let watching = true;
    return () => {
      if (watching) stream.consumers--;
      watching = false;
    };
  }

  /**
   * An entry of the stream whose key is `key` is due in `inMs` ms: the timer is set for it if it is the earliest,
   * and the stream is watched until its schedule is empty.
   */
  scheduled(key: string, inMs: number): void {
    const stream = this.stream(key);
    const atMs = Date.now() + Math.max(inMs, 0);
    stream.nextAtMs = Math.min(stream.nextAtMs, atMs);
    stream.notedAtMs = Math.min(stream.notedAtMs, atMs); // a move in flight may answer without it
    this.arm();
  }

  /** Stops the timer (the entries wait in Redis for another instance or the next start). */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  private stream(key: string): WatchedStream {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = { consumers: 0, nextAtMs: Infinity, notedAtMs: Infinity };
      this.streams.set(key, stream);
    }
    return stream;
  }

  /** Sets the one timer for the earliest due time known, or the next poll. */
  private arm(): void {
    if (this.closed || this.pass || this.streams.size === 0) return; // the pass in progress arms when it ends
    let atMs = this.nextPollAtMs;
    for (const stream of this.streams.values()) atMs = Math.min(atMs, stream.nextAtMs);
    if (this.timer && this.timerAtMs <= atMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => this.run(), Math.max(atMs - Date.now(), 0));
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    this.pass = this.moveDue().finally(() => {
      this.pass = undefined;
      this.arm();
    });
  }

  /** One pass: every stream with an entry due, every watched stream when a poll is due. */
  private async moveDue(): Promise<void> {
    const now = Date.now();
    const poll = now >= this.nextPollAtMs;
    if (poll) this.nextPollAtMs = now + this.options.delayedPollMs;
    for (const [key, stream] of [...this.streams]) {
      if (this.closed) return;
      if (poll || stream.nextAtMs <= now) await this.drain(key, stream);
    }
  }

  /** Moves every due entry of one stream (several calls when more than {@link MOVE_BATCH} are due). */
  private async drain(key: string, stream: WatchedStream): Promise<void> {
    const keys = delayedKeys(key);
    const client = this.redis.getClient(this.options.clientName);
    try {
      for (;;) {
        stream.notedAtMs = Infinity;
        const startedMs = Date.now();
        const reply = await MOVE_DUE.run<MoveReply>(
          client,
          [keys.schedule, keys.entries, keys.stream],
          [MOVE_BATCH, this.options.streamMaxLen],
        );
        const [moved, nowMs, nextDueMs, latenessSumMs, latenessMaxMs] = reply.map(Number) as MoveReply;
        this.breaker.success();
        this.lastError = undefined;
        if (moved > 0) {
          this.stats.moved(moved, latenessSumMs, latenessMaxMs);
          recordSpan('delayed move', startedMs, { attributes: moveAttributes(key, moved, latenessMaxMs) });
        }
        if (moved >= MOVE_BATCH) continue;
        const knownAtMs = nextDueMs < 0 ? Infinity : Date.now() + Math.max(nextDueMs - nowMs, 0);
        stream.nextAtMs = Math.min(knownAtMs, stream.notedAtMs);
        if (stream.nextAtMs === Infinity && stream.consumers <= 0) this.streams.delete(key);
        return;
      }
    } catch (err) {
      stream.nextAtMs = stream.notedAtMs; // else tried again at the next poll
      if (isRedisConnectionError(err)) {
        this.breaker.failure(err);
        return;
      }
      const message = `could not move the due messages of ${key}: ${err instanceof Error ? err.message : String(err)}`;
      if (message !== this.lastError) this.logger.error(message);
      this.lastError = message;
    }
  }
}
