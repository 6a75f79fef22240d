import type { RedisClient } from '../redis/redis.options';
import type { MessagingStats } from './messaging.stats';
import type { RawStreamEntry } from './stream-replies';

/** Where one consumer moves the messages it gives up on. */
export interface DeadLetterTarget {
  /** The shared client (looked up per call). */
  client: () => RedisClient;
  /** Redis key of the stream consumed. */
  key: string;
  /** Redis key of its dead-letter stream (same hash tag as `key`). */
  deadLetterKey: string;
  /** Approximate MAXLEN of the dead-letter stream; 0 = no trimming. */
  maxLen: number;
  /** Consumer group giving up. */
  group: string;
  /** Consumer name, recorded with the message. */
  consumerName: string;
  /** Counts `deadLettered`. */
  stats: MessagingStats;
  /** Told when the move failed (the message then stays pending). */
  onError: (what: string, err: unknown) => void;
}

/**
 * Moves a message to `<stream>:dlq` and acks it on the stream, in one MULTI (the two keys share a hash tag,
 * so this works on Cluster): either both happen or neither. The dead letter keeps the raw text, the last error,
 * the attempts made, its source id (the first stream id of a retried message), group, consumer and time. When the MULTI fails, the message stays pending:
 * it is reclaimed later and dead-lettered then (its delivery count is past `maxAttempts` by then).
 */
export class StreamDeadLetter {
  constructor(private readonly target: DeadLetterTarget) {}

  /**
   * Moves `entry` (its text `raw`) after `attempts` attempts that ended with `error`. Never rejects.
   * @param attempts attempts made, recorded with the dead letter
   */
  async move(entry: RawStreamEntry, raw: string, error: string, attempts: number): Promise<void> {
    const t = this.target;
    try {
      const trim = t.maxLen > 0 ? ['MAXLEN', '~', String(t.maxLen)] : [];
      const results = await t
        .client()
        .multi()
        .call(
          'XADD',
          t.deadLetterKey,
          ...trim,
          '*',
          'data',
          raw,
          'error',
          error,
          'attempts',
          String(attempts),
          'sourceId',
          entry.fields?.sourceId ?? entry.id,
          'group',
          t.group,
          'consumer',
          t.consumerName,
          'failedAt',
          new Date().toISOString(),
        )
        .xack(t.key, t.group, entry.id)
        .exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      t.stats.inc('deadLettered');
    } catch (err) {
      t.onError(`could not dead-letter ${entry.id}`, err);
    }
  }
}
