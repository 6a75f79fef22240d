import type { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { settleWithin, sleep } from '../core/deadline';
import { OutageBreaker } from '../core/outage-breaker';
import { isRedisConnectionError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { RedisService } from '../redis/redis.service';
import type { StreamConsumerSettings } from './messaging.options';
import type { MessagingStats } from './messaging.stats';
import type { PayloadDto } from './payload-validation';
import { StreamClaimer, newDelivery, type Delivery } from './stream-claimer';
import { StreamDeadLetter } from './stream-dead-letter';
import type { StreamDelayMover } from './stream-delay.mover';
import { StreamDelaySchedule } from './stream-delay.schedule';
import { StreamDelivery, type StreamHandler } from './stream-delivery';
import { parseReadGroupReply } from './stream-replies';

/** Everything one consumer loop needs (internal). */
export interface StreamConsumerRunnerConfig {
  redis: RedisService;
  clientName: string;
  stats: MessagingStats;
  logger: Logger;
  stream: string;
  group: string;
  key: string;
  deadLetterKey: string;
  deadLetterMaxLen: number;
  shutdownTimeoutMs: number;
  consumerName: string;
  settings: StreamConsumerSettings;
  handler: StreamHandler;
  dto?: PayloadDto;
  label: string;
  /**
   * Read with `XREADGROUP ... NOACK`: a message counts as handled once read (never pending, never acked, never
   * reclaimed): at-most-once delivery, e.g. the transport's requests. Default false.
   */
  noAck?: boolean;
  /**
   * The process's mover of delayed messages: with it, this loop's stream is watched while the loop runs and failed
   * messages are retried through the delay ({@link StreamDelivery}); without it, the loop retries in hand.
   */
  mover?: StreamDelayMover;
}

/** Pause after the n-th failed read in a row: 200, 400, 800, then 1000 ms. */
const retryPauseMs = (failures: number) => Math.min(100 * 2 ** Math.min(failures, 4), 1_000);
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * One consumer loop on its own connection: reclaim idle messages when due ({@link StreamClaimer}), XREADGROUP
 * BLOCK for new ones, handle the batch ({@link StreamDelivery}: concurrency, retries, dead-lettering), XACK the
 * handled ones in one command without waiting for it, repeat. Redis being unreachable is logged once per outage
 * and once when it ends ({@link OutageBreaker}); the loop retries with a growing pause meanwhile. A vanished
 * group (Redis restarted empty) is created again.
 */
export class StreamConsumerRunner {
  private reader: RedisClient | undefined;
  /** CLIENT ID of the reader, to UNBLOCK its read at stop (unknown on Cluster and until read). */
  private readerId: number | undefined;
  private stopping: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();
  private acking: Promise<void> = Promise.resolve();
  /** The batch whose handlers are running, if any. */
  private handling: Promise<void> | undefined;
  private readonly claimer: StreamClaimer;
  private readonly breaker: OutageBreaker;
  /** The last error (other than Redis being unreachable) logged since the last successful read. */
  private lastError: string | undefined;
  /** Ends the mover's watch of this loop's stream. */
  private unwatch: (() => void) | undefined;

  constructor(private readonly c: StreamConsumerRunnerConfig) {
    this.claimer = new StreamClaimer({
      client: () => this.shared,
      key: c.key,
      group: c.group,
      consumerName: c.consumerName,
      claimIdleMs: c.settings.claimIdleMs,
      batchSize: c.settings.batchSize,
    });
    this.breaker = new OutageBreaker({
      subject: `stream consumer ${c.label}`,
      fallback: 'messages wait in the stream',
      probeIntervalMs: 1_000,
      logger: c.logger,
    });
  }

  /** App-facing name of the stream this loop reads. */
  get stream(): string {
    return this.c.stream;
  }

  private get running(): boolean {
    return this.stopping !== undefined && !this.stopping.signal.aborted;
  }

  private get shared(): RedisClient {
    return this.c.redis.getClient(this.c.clientName);
  }

  /** Opens the reader connection, creates the group when missing, starts the loop (does not wait for it). */
  async start(): Promise<void> {
    if (this.running) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    const { c } = this;
    const delivery = this.delivery(stopping.signal);
    const reader = c.redis.duplicate(c.clientName, 'stream-reader', { blocking: true });
    if (reader.status === 'wait') reader.connect().catch(() => undefined);
    reader.on('ready', () => (this.readerId = undefined));
    this.reader = reader;
    await this.ensureGroup().catch((err: unknown) =>
      c.logger.warn(`${c.label}: could not create group yet (${errorText(err)}); will retry`),
    );
    this.loop = this.run(reader, delivery, stopping.signal);
    this.unwatch = c.mover?.watch(c.key);
  }

  /**
   * Stops reading, finishes the messages in flight (a retry pause ends at once, leaving its message pending),
   * acks them. Waits at most `shutdownTimeoutMs`, then leaves what still runs pending (logged).
   */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.stopping?.abort();
    this.unwatch?.();
    // Wake the blocked XREADGROUP at once (standalone / Sentinel); on Cluster it returns within blockMs.
    if (this.readerId !== undefined && !(this.shared instanceof Cluster)) {
      await (this.shared as Redis).client('UNBLOCK', this.readerId).catch(() => undefined);
    }
    // A reader that is not connected has no read to finish (on a Cluster whose nodes are all down, its read waits
    // in ioredis's offline queue until the cluster is back): wait only for the handlers in flight.
    const readerConnected = this.reader?.status === 'ready';
    const work = readerConnected ? this.loop : (this.handling ?? Promise.resolve());
    const finished = await settleWithin(
      work.then(() => this.acking).then(() => true),
      this.c.shutdownTimeoutMs,
      false,
    );
    if (!finished) {
      this.c.logger.warn(
        `${this.c.label}: handlers still running after ${this.c.shutdownTimeoutMs} ms; leaving their messages pending (reclaimed by another consumer)`,
      );
    }
  }

  /** Handling of this loop's messages; `signal` aborts when the loop stops. */
  private delivery(signal: AbortSignal): StreamDelivery {
    const { c } = this;
    return new StreamDelivery({
      client: () => this.shared,
      stream: c.stream,
      key: c.key,
      group: c.group,
      consumerName: c.consumerName,
      label: c.label,
      handler: c.handler,
      dto: c.dto,
      maxAttempts: c.settings.maxAttempts,
      backoffMs: c.settings.backoffMs,
      concurrency: c.settings.concurrency,
      deadLetter: new StreamDeadLetter({
        client: () => this.shared,
        key: c.key,
        deadLetterKey: c.deadLetterKey,
        maxLen: c.deadLetterMaxLen,
        group: c.group,
        consumerName: c.consumerName,
        stats: c.stats,
        onError: (what, err) => this.report(`${c.label}: ${what}: ${errorText(err)}`, err),
      }),
      stats: c.stats,
      logger: c.logger,
      signal,
      delayed:
        c.mover &&
        new StreamDelaySchedule(
          () => this.shared,
          () => c.key,
          c.mover,
        ),
    });
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.shared.call('XGROUP', 'CREATE', this.c.key, this.c.group, this.c.settings.startId, 'MKSTREAM');
      this.c.logger.log(`${this.c.label}: created group "${this.c.group}" on ${this.c.key}`);
    } catch (err) {
      if (!/BUSYGROUP/.test(errorText(err))) throw err;
    }
  }

  private async run(reader: RedisClient, delivery: StreamDelivery, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (this.claimer.due) {
          await this.reclaim(reader, delivery);
          this.claimer.scanned();
        }
        if (!this.running) break;
        const entries = await this.read(reader);
        failures = 0;
        this.recovered();
        if (entries.length > 0) await this.handle(delivery, entries.map(newDelivery));
      } catch (err) {
        if (/NOGROUP/.test(errorText(err))) {
          // The stream or group vanished (Redis restarted without persistence, or someone deleted it).
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        if (!this.running) break;
        failures++;
        this.report(`${this.c.label}: ${errorText(err)}; retrying`, err);
        await sleep(retryPauseMs(failures), { signal });
      }
    }
  }

  /** One XREADGROUP of new messages, blocking until some arrive, `blockMs` passes or a reclaim scan is due. */
  private async read(reader: RedisClient) {
    const s = this.c.settings;
    if (this.readerId === undefined && !(reader instanceof Cluster)) {
      this.readerId = Number(await reader.client('ID'));
    }
    const reply = await reader.call(
      'XREADGROUP',
      'GROUP',
      this.c.group,
      this.c.consumerName,
      ...(this.c.noAck ? ['NOACK'] : []),
      'COUNT',
      String(s.batchSize),
      'BLOCK',
      String(Math.min(s.blockMs, this.claimer.msUntilDue)),
      'STREAMS',
      this.c.key,
      '>',
    );
    return parseReadGroupReply(reply);
  }

  /** Claims and handles, page by page, the messages other consumers left pending too long. */
  private async reclaim(reader: RedisClient, delivery: StreamDelivery): Promise<void> {
    let cursor = '0-0';
    do {
      const page = await this.claimer.page(reader, cursor);
      cursor = page.cursor;
      if (page.deliveries.length === 0) continue;
      this.c.stats.inc('reclaimed', page.deliveries.length);
      this.c.logger.log(`${this.c.label}: reclaimed ${page.deliveries.length} pending message(s)`);
      await this.handle(delivery, page.deliveries);
    } while (cursor !== '0-0' && this.running);
  }

  /** Handles a batch (tracked, so stop() can wait for it), then acks the handled messages without waiting. */
  private async handle(delivery: StreamDelivery, deliveries: Delivery[]): Promise<void> {
    const batch = delivery.batch(deliveries).then((acks) => {
      if (acks.length > 0 && !this.c.noAck) this.ack(acks);
    });
    this.handling = batch;
    try {
      await batch;
    } finally {
      if (this.handling === batch) this.handling = undefined;
    }
  }

  /** XACK of `ids` in one command, after the acks queued before it; stop() waits for the queue. */
  private ack(ids: string[]): void {
    this.acking = this.acking.then(async () => {
      try {
        await this.shared.xack(this.c.key, this.c.group, ...ids);
      } catch (err) {
        // Not acked: the messages stay pending and are reclaimed (handled again) after claimIdleMs.
        this.report(`${this.c.label}: XACK of ${ids.length} message(s) failed: ${errorText(err)}`, err);
      }
    });
  }

  /**
   * Logs a failure: Redis being unreachable once per outage (the breaker), any other error as an error, once
   * until a read succeeds or the error changes (a persistent one would otherwise log at every retry).
   */
  private report(message: string, err: unknown): void {
    if (isRedisConnectionError(err)) {
      this.breaker.failure(err);
      return;
    }
    if (message === this.lastError) return;
    this.lastError = message;
    this.c.logger.error(message);
  }

  /** A read succeeded: an outage is over (logged once), errors are logged again. */
  private recovered(): void {
    this.breaker.success();
    this.lastError = undefined;
  }
}
