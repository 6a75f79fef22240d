import type { Logger } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { isRedisConnectionError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { RedisService } from '../redis/redis.service';
import type { StreamConsumerSettings } from './messaging.options';
import type { MessagingStats } from './messaging.stats';
import { parseEnvelope, type MessageEnvelope } from './message-envelope';
import { validatePayload, type PayloadDto } from './payload-validation';
import { parseEntries, parseReadGroupReply, type RawStreamEntry } from './stream-replies';

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
  /** 1 for the first attempt; counts redeliveries after a crash too. */
  attempt: number;
}

/** A stream handler: resolve to ack, throw to retry (then dead-letter). */
export type StreamHandler<T = unknown> = (payload: T, message: StreamMessage<T>) => unknown;

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
}

interface Delivery extends RawStreamEntry {
  /** Attempts already made before this delivery (0 for a new message). */
  priorAttempts: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * One consumer loop: XREADGROUP BLOCK on its own connection, bounded concurrency, XACK in batches,
 * retries with backoff, dead-lettering, XAUTOCLAIM of messages left pending by dead consumers.
 */
export class StreamConsumerRunner {
  private reader: RedisClient | undefined;
  private readerId: number | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private acking: Promise<void> = Promise.resolve();
  /** The batch whose handlers are running, if any. */
  private handling: Promise<void> | undefined;
  private nextClaimAt = 0;
  private lastErrorLogAt = 0;

  constructor(private readonly c: StreamConsumerRunnerConfig) {}

  private get shared(): RedisClient {
    return this.c.redis.getClient(this.c.clientName);
  }

  /** Opens the reader connection, creates the group when missing, starts the loop (does not wait for it). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const reader = this.c.redis.duplicate(this.c.clientName, 'stream-reader', { blocking: true });
    if (reader.status === 'wait') reader.connect().catch(() => undefined);
    reader.on('ready', () => (this.readerId = undefined));
    this.reader = reader;
    await this.ensureGroup().catch((err: unknown) =>
      this.c.logger.warn(`${this.c.label}: could not create group yet (${errorText(err)}); will retry`),
    );
    this.loop = this.run();
  }

  /** Stops reading, finishes the messages in flight, acks them. Resolves when the loop has ended. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    // Wake the blocked XREADGROUP at once (standalone / Sentinel); on Cluster it returns within blockMs.
    if (this.readerId !== undefined && !(this.shared instanceof Cluster)) {
      await (this.shared as import('ioredis').Redis).client('UNBLOCK', this.readerId).catch(() => undefined);
    }
    // A reader that is not connected has no read to finish: wait only for the handlers in flight. (On a Cluster
    // whose nodes are all down its read waits in ioredis's offline queue until the cluster is back: waiting for the
    // loop held shutdown for the whole shutdownTimeoutMs, and the warning blamed handlers that did not exist.)
    const readerConnected = this.reader?.status === 'ready';
    const work = readerConnected ? this.loop : (this.handling ?? Promise.resolve());
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      work.then(() => this.acking).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.c.shutdownTimeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    if (!finished) {
      this.c.logger.warn(
        `${this.c.label}: handlers still running after ${this.c.shutdownTimeoutMs} ms; leaving their messages pending (reclaimed by another consumer)`,
      );
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.shared.call('XGROUP', 'CREATE', this.c.key, this.c.group, this.c.settings.startId, 'MKSTREAM');
      this.c.logger.log(`${this.c.label}: created group "${this.c.group}" on ${this.c.key}`);
    } catch (err) {
      if (!/BUSYGROUP/.test(errorText(err))) throw err;
    }
  }

  private async run(): Promise<void> {
    const s = this.c.settings;
    const claimEveryMs = Math.min(Math.max(Math.floor(s.claimIdleMs / 2), 100), 30_000);
    let failures = 0;
    while (this.running) {
      try {
        const reader = this.reader as RedisClient;
        if (Date.now() >= this.nextClaimAt) {
          await this.claim();
          this.nextClaimAt = Date.now() + claimEveryMs;
        }
        if (!this.running) break;
        if (this.readerId === undefined && !(reader instanceof Cluster)) {
          this.readerId = Number(await reader.client('ID'));
        }
        const reply = await reader.call(
          'XREADGROUP',
          'GROUP',
          this.c.group,
          this.c.consumerName,
          'COUNT',
          String(s.batchSize),
          'BLOCK',
          String(Math.min(s.blockMs, Math.max(this.nextClaimAt - Date.now(), 1))),
          'STREAMS',
          this.c.key,
          '>',
        );
        failures = 0;
        const entries = parseReadGroupReply(reply);
        if (entries.length > 0) await this.processBatch(entries.map((e) => ({ ...e, priorAttempts: 0 })));
      } catch (err) {
        if (/NOGROUP/.test(errorText(err))) {
          // The stream or group vanished (Redis restarted without persistence, or someone deleted it).
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        if (!this.running) break;
        failures++;
        this.logThrottled(`${this.c.label}: ${errorText(err)}; retrying`, err);
        await sleep(Math.min(100 * 2 ** Math.min(failures, 4), 1_000));
      }
    }
  }

  private logThrottled(message: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    if (isRedisConnectionError(err)) this.c.logger.warn(message);
    else this.c.logger.error(message);
  }

  /** Reclaims messages idle longer than claimIdleMs on any consumer of the group (dead ones included). */
  private async claim(): Promise<void> {
    const reader = this.reader as RedisClient;
    let cursor = '0-0';
    do {
      const reply = (await reader.call(
        'XAUTOCLAIM',
        this.c.key,
        this.c.group,
        this.c.consumerName,
        String(this.c.settings.claimIdleMs),
        cursor,
        'COUNT',
        String(this.c.settings.batchSize),
      )) as unknown[];
      cursor = String(reply[0]);
      const entries = parseEntries(reply[1]);
      if (entries.length === 0) continue;
      const deliveries = await this.deliveryCounts(entries.map((e) => e.id));
      this.c.stats.inc('reclaimed', entries.length);
      this.c.logger.log(`${this.c.label}: reclaimed ${entries.length} pending message(s)`);
      await this.processBatch(
        entries.map((e) => ({ ...e, priorAttempts: Math.max((deliveries.get(e.id) ?? 1) - 1, 0) })),
      );
    } while (cursor !== '0-0' && this.running);
  }

  /** Delivery counts (XPENDING extended form) of the given ids. */
  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const pipeline = this.shared.pipeline();
    for (const id of ids) pipeline.call('XPENDING', this.c.key, this.c.group, id, id, '1');
    const results = (await pipeline.exec()) ?? [];
    const out = new Map<string, number>();
    for (const [err, reply] of results) {
      if (err || !Array.isArray(reply) || !Array.isArray(reply[0])) continue;
      const [id, , , count] = reply[0] as [string, string, number, number];
      out.set(id, Number(count));
    }
    return out;
  }

  private async processBatch(entries: Delivery[]): Promise<void> {
    const batch = this.handleBatch(entries);
    this.handling = batch;
    try {
      await batch;
    } finally {
      if (this.handling === batch) this.handling = undefined;
    }
  }

  private async handleBatch(entries: Delivery[]): Promise<void> {
    const acks: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const entry = entries[next++];
        const done = this.processOne(entry);
        if (done === true || (done !== false && (await done))) acks.push(entry.id);
      }
    };
    const workers = Math.min(this.c.settings.concurrency, entries.length);
    if (workers === 1) await worker();
    else await Promise.all(Array.from({ length: workers }, worker));
    if (acks.length > 0) this.queueAck(acks);
  }

  private queueAck(ids: string[]): void {
    this.acking = this.acking.then(async () => {
      try {
        await this.shared.xack(this.c.key, this.c.group, ...ids);
      } catch (err) {
        // Not acked: the messages stay pending and are reclaimed (handled again) after claimIdleMs.
        this.logThrottled(`${this.c.label}: XACK of ${ids.length} message(s) failed: ${errorText(err)}`, err);
      }
    });
  }

  /**
   * Handles one delivery; resolves true when it should be acked. Never throws. Synchronous (no promise)
   * when the handler is, which keeps the per-message cost low.
   */
  private processOne(entry: Delivery): boolean | Promise<boolean> {
    if (!entry.fields) return true; // trimmed away while pending: nothing to do
    const raw = entry.fields.data ?? '';
    let envelope: MessageEnvelope;
    try {
      envelope = parseEnvelope(raw);
    } catch (err) {
      return this.invalid(entry, raw, err);
    }
    if (this.c.dto) return this.processValidated(entry, raw, envelope, this.c.dto);
    return this.attempt(entry, raw, envelope, envelope.payload, entry.priorAttempts);
  }

  private async processValidated(
    entry: Delivery,
    raw: string,
    envelope: MessageEnvelope,
    dto: PayloadDto,
  ): Promise<boolean> {
    let payload: unknown;
    try {
      payload = await validatePayload(envelope.type, dto, envelope.payload);
    } catch (err) {
      return this.invalid(entry, raw, err);
    }
    return this.attempt(entry, raw, envelope, payload, entry.priorAttempts);
  }

  private async invalid(entry: Delivery, raw: string, err: unknown): Promise<boolean> {
    this.c.stats.inc('invalid');
    this.c.logger.warn(`${this.c.label}: message ${entry.id} is invalid (${errorText(err)}); moved to the DLQ`);
    await this.deadLetter(entry, raw, errorText(err), entry.priorAttempts);
    return false;
  }

  /** One attempt after `before` earlier ones; on failure, backoff and the next attempt, or the DLQ. */
  private attempt(
    entry: Delivery,
    raw: string,
    envelope: MessageEnvelope,
    payload: unknown,
    before: number,
  ): boolean | Promise<boolean> {
    if (before >= this.c.settings.maxAttempts) {
      return this.deadLetter(entry, raw, `delivered ${before} time(s) without an ack (consumer crashes?)`, before).then(
        () => false,
      );
    }
    const attempt = before + 1;
    try {
      const result = this.c.handler(payload, {
        stream: this.c.stream,
        group: this.c.group,
        streamId: entry.id,
        envelope,
        attempt,
      });
      if (!(result instanceof Promise)) {
        this.c.stats.inc('handled');
        return true;
      }
      return result.then(
        () => {
          this.c.stats.inc('handled');
          return true;
        },
        (err: unknown) => this.failed(entry, raw, envelope, payload, attempt, err),
      );
    } catch (err) {
      return this.failed(entry, raw, envelope, payload, attempt, err);
    }
  }

  private async failed(
    entry: Delivery,
    raw: string,
    envelope: MessageEnvelope,
    payload: unknown,
    attempt: number,
    err: unknown,
  ): Promise<boolean> {
    const s = this.c.settings;
    this.c.stats.inc('failed');
    if (attempt >= s.maxAttempts) {
      this.c.logger.error(
        `${this.c.label}: message ${entry.id} failed ${attempt} time(s), moved to the DLQ: ${errorText(err)}`,
      );
      await this.deadLetter(entry, raw, errorText(err), attempt);
      return false;
    }
    this.c.logger.warn(`${this.c.label}: message ${entry.id} attempt ${attempt} failed: ${errorText(err)}`);
    this.c.stats.inc('retried');
    await sleep(Math.min(s.backoffMs * 2 ** (attempt - 1), 5_000));
    if (!this.running) return false; // shutting down: leave it pending, another consumer reclaims it
    // Keep ownership: reset the idle time so no other consumer reclaims it during our retries.
    await this.shared
      .call('XCLAIM', this.c.key, this.c.group, this.c.consumerName, '0', entry.id, 'JUSTID')
      .catch(() => undefined);
    return this.attempt(entry, raw, envelope, payload, attempt);
  }

  /** XADD to `<stream>:dlq` and XACK on the main stream, in one MULTI (same slot thanks to the hash tag). */
  private async deadLetter(entry: Delivery, raw: string, error: string, attempts: number): Promise<void> {
    try {
      const trim = this.c.deadLetterMaxLen > 0 ? ['MAXLEN', '~', String(this.c.deadLetterMaxLen)] : [];
      const results = await this.shared
        .multi()
        .call(
          'XADD',
          this.c.deadLetterKey,
          ...trim,
          '*',
          'data',
          raw,
          'error',
          error,
          'attempts',
          String(attempts),
          'sourceId',
          entry.id,
          'group',
          this.c.group,
          'consumer',
          this.c.consumerName,
          'failedAt',
          new Date().toISOString(),
        )
        .xack(this.c.key, this.c.group, entry.id)
        .exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      this.c.stats.inc('deadLettered');
    } catch (err) {
      // Stays pending: reclaimed later and dead-lettered then (its delivery count exceeds maxAttempts).
      this.logThrottled(`${this.c.label}: could not dead-letter ${entry.id}: ${errorText(err)}`, err);
    }
  }
}
