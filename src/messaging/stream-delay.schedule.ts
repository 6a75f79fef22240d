import { toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import { delayedKeys } from './messaging.keys';
import type { StreamDelayMover } from './stream-delay.mover';
import { CANCEL_DELAYED, SCHEDULE_DELAYED } from './messaging.scripts';

/** When a delayed entry is due: `delayMs` from now (Redis clock) or at `atMs` (epoch ms). */
export interface EntryDelay {
  /** Due this many ms after the Redis server's time now. */
  delayMs?: number;
  /** Due at this time, epoch ms. */
  atMs?: number;
}

/** The stream entry a retry acks in the same call as it schedules its next attempt. */
export interface AckOnSchedule {
  /** Consumer group acking. */
  group: string;
  /** Id of the entry in the stream. */
  entryId: string;
}

/**
 * The delay of `StreamProducer.add`'s options, or undefined for a message added at once (`delayMs` absent or 0).
 * @throws RangeError for a negative or non-finite `delayMs`, an invalid `at`, or both given
 */
export function delayOf(options: { delayMs?: number; at?: Date }): EntryDelay | undefined {
  const { delayMs, at } = options;
  if (delayMs !== undefined && at !== undefined) throw new RangeError('give delayMs or at, not both');
  if (at !== undefined) {
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new RangeError('at must be a valid Date');
    return { atMs: at.getTime() };
  }
  if (delayMs === undefined) return undefined;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new RangeError(`delayMs must be a finite number of ms >= 0, got ${String(delayMs)}`);
  }
  return delayMs === 0 ? undefined : { delayMs: Math.ceil(delayMs) };
}

/**
 * Schedules and cancels the delayed entries of streams (Lua scripts on the stream's hash slot), and tells the
 * process's {@link StreamDelayMover} when each one is due.
 */
export class StreamDelaySchedule {
  /**
   * @param client the shared client (looked up per call)
   * @param keyOf the Redis key of a stream by its app-facing name
   */
  constructor(
    private readonly client: () => RedisClient,
    private readonly keyOf: (name: string) => string,
    private readonly mover: Pick<StreamDelayMover, 'scheduled'>,
  ) {}

  /**
   * Schedules entry `id` of stream `name` with `fields` (name, value, ...); with `ack`, acks that stream entry in
   * the same call. Resolves with the due time; rejects with {@link RedisUnavailableError} when Redis is unreachable.
   */
  async schedule(
    name: string,
    id: string,
    fields: readonly string[],
    delay: EntryDelay,
    ack?: AckOnSchedule,
  ): Promise<Date> {
    const keys = delayedKeys(this.keyOf(name));
    let reply: [number, number];
    try {
      reply = await SCHEDULE_DELAYED.run<[number, number]>(
        this.client(),
        [keys.schedule, keys.entries, keys.stream],
        [id, JSON.stringify(fields), delay.delayMs ?? '', delay.atMs ?? '', ack?.group ?? '', ack?.entryId ?? ''],
      );
    } catch (err) {
      throw toRedisUnavailable(err, `Could not schedule a delayed message on stream "${name}"`);
    }
    const [dueMs, nowMs] = reply.map(Number);
    this.mover.scheduled(keys.stream, dueMs - nowMs);
    return new Date(dueMs);
  }

  /** Cancels entry `id` of stream `name` if it is not due yet; resolves true when cancelled. */
  async cancel(name: string, id: string): Promise<boolean> {
    const keys = delayedKeys(this.keyOf(name));
    try {
      return (await CANCEL_DELAYED.run<number>(this.client(), [keys.schedule, keys.entries], [id])) === 1;
    } catch (err) {
      throw toRedisUnavailable(err, `Could not cancel a delayed message on stream "${name}"`);
    }
  }
}
