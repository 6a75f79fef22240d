import type { Logger } from '@nestjs/common';
import { sleep } from '../core/deadline';
import { OutageBreaker } from '../core/outage-breaker';
import { isRedisConnectionError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { RedisService } from '../redis/redis.service';
import { forEachReadPair } from '../messaging/stream-replies';

/** What a client's reply reader needs. */
export interface ReplyStreamReaderConfig {
  redis: RedisService;
  clientName: string;
  /** Redis key of the client's reply stream. */
  key: string;
  /** How long one XREAD waits, ms (bounds nothing at stop: the connection is closed). */
  blockMs: number;
  logger: Logger;
  /**
   * Called with each reply, in stream order: its correlation id (undefined when the entry lacks one) and its text.
   * An entry holds one or more replies, as `c` (correlation id) / `p` (reply) pairs.
   */
  onReply: (correlationId: string | undefined, text: string) => void;
}

/** Pause after the n-th failed read in a row: 200, 400, 800, then 1000 ms. */
const retryPauseMs = (failures: number) => Math.min(100 * 2 ** Math.min(failures, 4), 1_000);

/**
 * Reads one client instance's reply stream on its own connection (`RedisService.duplicate`), from its start:
 * XREAD BLOCK from the last id seen, so no reply is missed whenever the reader connects. Redis being unreachable is
 * logged once per outage ({@link OutageBreaker}); the loop retries with a growing pause meanwhile.
 */
export class ReplyStreamReader {
  private reader: RedisClient | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private lastId = '0-0';
  private readonly breaker: OutageBreaker;
  /** Correlation id of the pair being read (a `c` field, then its `p`). */
  private correlationId: string | undefined;
  private readonly onPair = (field: string, value: string): void => {
    if (field === 'c') {
      this.correlationId = value;
    } else if (field === 'p') {
      this.c.onReply(this.correlationId, value);
      this.correlationId = undefined;
    }
  };

  constructor(private readonly c: ReplyStreamReaderConfig) {
    this.breaker = new OutageBreaker({
      subject: `reply stream ${c.key}`,
      fallback: 'requests time out',
      probeIntervalMs: 1_000,
      logger: c.logger,
    });
  }

  /** Opens the connection and starts reading (does not wait for the connection). */
  start(): void {
    const reader = this.c.redis.duplicate(this.c.clientName, 'reply-reader', { blocking: true });
    if (reader.status === 'wait') reader.connect().catch(() => undefined);
    this.reader = reader;
    this.loop = this.run(reader);
  }

  /** Stops reading and closes the connection (a blocked XREAD ends at once). */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    if (this.reader) {
      this.reader.disconnect(); // ends the blocked XREAD now (a QUIT would wait behind it)
      await this.c.redis.release(this.reader).catch(() => undefined);
    }
    await this.loop;
  }

  private async run(reader: RedisClient): Promise<void> {
    const { signal } = this.stopping;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const reply = await reader.call(
          'XREAD',
          'COUNT',
          '1000',
          'BLOCK',
          String(this.c.blockMs),
          'STREAMS',
          this.c.key,
          this.lastId,
        );
        failures = 0;
        this.breaker.success();
        const lastId = forEachReadPair(reply, this.onPair);
        if (lastId !== undefined) {
          this.lastId = lastId;
          this.correlationId = undefined;
        }
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        if (isRedisConnectionError(err)) this.breaker.failure(err);
        else this.c.logger.error(`reading ${this.c.key}: ${err instanceof Error ? err.message : String(err)}`);
        await sleep(retryPauseMs(failures), { signal });
      }
    }
  }
}
