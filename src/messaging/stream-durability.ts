import type { Cluster, Redis } from 'ioredis';
import { check } from '../core/option-checker';

/**
 * `durability` of {@link StreamAddOptions}: `'replicated'` makes an add wait (`WAIT`) until `replicas` replicas
 * have the message, at most `timeoutMs`. Redis replicates asynchronously: without it, a message the master
 * acknowledged just before a failover can vanish with that master.
 */
export interface ReplicatedDurability {
  durability: 'replicated';
  /** Replicas that must confirm the write (default 1). */
  replicas?: number;
  /**
   * How long `WAIT` may block, in milliseconds (default 1000; keep it under the connection's command timeout,
   * which would otherwise end the wait as an outage).
   */
  timeoutMs?: number;
  /**
   * When fewer replicas confirmed in time: `'reject'` (default) rejects with {@link ReplicationTimeoutError} (the
   * message is stored on the master all the same); `'report'` resolves with the `replicatedTo` count.
   */
  onShortfall?: 'reject' | 'report';
}

/** The message is stored on the master but fewer replicas than asked confirmed it within `timeoutMs`. */
export class ReplicationTimeoutError extends Error {
  override readonly name = 'ReplicationTimeoutError';
  /**
   * @param stream stream name
   * @param streamId id the master gave the message (it is in the stream, possibly not on any replica)
   * @param replicas replicas asked for
   * @param replicatedTo replicas that confirmed
   * @param timeoutMs the wait
   */
  constructor(
    readonly stream: string,
    readonly streamId: string,
    readonly replicas: number,
    readonly replicatedTo: number,
    readonly timeoutMs: number,
  ) {
    super(
      `Message ${streamId} on stream "${stream}" reached ${replicatedTo} of ${replicas} replicas within ${timeoutMs} ms`,
    );
  }
}

/** Checked {@link ReplicatedDurability} with its defaults. */
export interface ResolvedDurability {
  replicas: number;
  timeoutMs: number;
  onShortfall: 'reject' | 'report';
}

/** Checks a `durability` option; throws RedisConfigError naming the field. */
export function resolveDurability(d: ReplicatedDurability): ResolvedDurability {
  check.oneOf('durability.durability', d.durability, ['replicated'] as const);
  return {
    replicas: check.positiveInt('durability.replicas', d.replicas, { max: 64 }) ?? 1,
    timeoutMs: check.durationMs('durability.timeoutMs', d.timeoutMs, { min: 1, max: 60_000 }) ?? 1_000,
    onShortfall: check.oneOf('durability.onShortfall', d.onShortfall, ['reject', 'report'] as const) ?? 'reject',
  };
}

/**
 * `XADD` then `WAIT replicas timeoutMs` in one pipeline: on the same connection (and, on a Cluster, the node of
 * the stream's slot), so the wait covers this write. Resolves with the id and the replicas that confirmed;
 * rejects with {@link ReplicationTimeoutError} on a shortfall unless `onShortfall: 'report'`. Errors of the
 * commands themselves are rethrown as they come (the caller maps them).
 */
export async function addReplicated(
  client: Redis | Cluster,
  stream: string,
  xadd: string[],
  d: ResolvedDurability,
): Promise<{ streamId: string; replicatedTo: number }> {
  const [command, ...args] = xadd;
  const replies = await client
    .pipeline()
    .call(command, ...args)
    .call('WAIT', String(d.replicas), String(d.timeoutMs))
    .exec();
  const [[addError, id], [waitError, count]] = replies ?? [
    [new Error('pipeline discarded'), null],
    [null, 0],
  ];
  if (addError) throw addError;
  if (waitError) throw waitError;
  const streamId = String(id);
  const replicatedTo = Number(count);
  if (replicatedTo < d.replicas && d.onShortfall === 'reject') {
    throw new ReplicationTimeoutError(stream, streamId, d.replicas, replicatedTo, d.timeoutMs);
  }
  return { streamId, replicatedTo };
}
