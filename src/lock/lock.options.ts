import { RedisConfigError, type RedisConnectionOptions } from '../redis';
import { validateConnectionOptions } from '../redis/redis.validation';

/** Options of `LockModule.forRoot()` / `forRootAsync()`. Every duration is in milliseconds. */
export interface LockModuleOptions {
  /** RedisModule client to lock on when `nodes` is not given (default `default`). A Cluster counts as ONE vote. */
  client?: string;
  /**
   * Independent Redis nodes (Redlock quorum): a lock needs a majority of them. Each is a URL or connection
   * options; RedisModule creates their clients with no offline queue, no retries and `nodeCommandTimeoutMs`.
   */
  nodes?: Array<RedisConnectionOptions | string>;
  /** Command timeout of each independent node (default 500): a dead or frozen node costs this, never a hang. */
  nodeCommandTimeoutMs?: number;
  /** Lease of a lock when the call names none (default 10000). */
  defaultTtlMs?: number;
  /** How long `@WithLock` (and `acquire` with no retry options) waits for a busy lock (default 5000). */
  defaultWaitMs?: number;
  /** Pause between two attempts (default 100). */
  retryDelayMs?: number;
  /** Random part added to or removed from each pause, against lock-step retries (default 50). */
  jitterMs?: number;
  /** Clock drift allowance, as a fraction of the TTL (default 0.01, Redlock's). */
  driftFactor?: number;
  /** Issue fencing tokens (an INCR per resource per acquisition, default true). */
  fencing?: boolean;
  /**
   * Idle lifetime of a resource's fencing counter, renewed at each acquisition (default 30 days; 0 = forever).
   * A counter that expired restarts at 1: a store holding a higher token refuses once, then `advanceFence()`.
   */
  fenceTtlMs?: number;
}

/** Options after validation, defaults filled in. */
export interface ResolvedLockOptions {
  /** See {@link LockModuleOptions.client}. */
  client: string;
  /** Independent nodes, normalised to connection options (empty: lock on `client`). */
  nodes: RedisConnectionOptions[];
  /** See {@link LockModuleOptions.nodeCommandTimeoutMs}. */
  nodeCommandTimeoutMs: number;
  /** See {@link LockModuleOptions.defaultTtlMs}. */
  defaultTtlMs: number;
  /** See {@link LockModuleOptions.defaultWaitMs}. */
  defaultWaitMs: number;
  /** See {@link LockModuleOptions.retryDelayMs}. */
  retryDelayMs: number;
  /** See {@link LockModuleOptions.jitterMs}. */
  jitterMs: number;
  /** See {@link LockModuleOptions.driftFactor}. */
  driftFactor: number;
  /** See {@link LockModuleOptions.fencing}. */
  fencing: boolean;
  /** See {@link LockModuleOptions.fenceTtlMs}. */
  fenceTtlMs: number;
}

function checkInt(path: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RedisConfigError(path, `must be an integer >= ${min} (milliseconds), got ${String(value)}`);
  }
}

/** Validates LockModule options; throws {@link RedisConfigError} naming the option (e.g. `lock.nodes[1].url`). */
export function resolveLockOptions(options: LockModuleOptions = {}): ResolvedLockOptions {
  if (options === null || typeof options !== 'object') throw new RedisConfigError('lock', 'must be an object');
  if (options.client !== undefined && (typeof options.client !== 'string' || options.client === '')) {
    throw new RedisConfigError('lock.client', 'must be a RedisModule client name');
  }
  checkInt('lock.nodeCommandTimeoutMs', options.nodeCommandTimeoutMs, 1);
  checkInt('lock.defaultTtlMs', options.defaultTtlMs, 1);
  checkInt('lock.defaultWaitMs', options.defaultWaitMs, 0);
  checkInt('lock.retryDelayMs', options.retryDelayMs, 0);
  checkInt('lock.jitterMs', options.jitterMs, 0);
  checkInt('lock.fenceTtlMs', options.fenceTtlMs, 0);
  if (
    options.driftFactor !== undefined &&
    (typeof options.driftFactor !== 'number' || !(options.driftFactor >= 0 && options.driftFactor < 0.5))
  ) {
    throw new RedisConfigError('lock.driftFactor', `must be a number in [0, 0.5), got ${String(options.driftFactor)}`);
  }
  const nodeCommandTimeoutMs = options.nodeCommandTimeoutMs ?? 500;
  let nodes: RedisConnectionOptions[] = [];
  if (options.nodes !== undefined) {
    if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
      throw new RedisConfigError('lock.nodes', 'must be a non-empty array of URLs or connection options');
    }
    nodes = options.nodes.map((node, i) => {
      const conn: RedisConnectionOptions = typeof node === 'string' ? { url: node } : { ...node };
      if (conn === null || typeof conn !== 'object')
        throw new RedisConfigError(`lock.nodes[${i}]`, 'must be an object');
      if (conn.nodes || conn.sentinels) {
        throw new RedisConfigError(
          `lock.nodes[${i}]`,
          'must be one independent server (a Cluster or Sentinel group is one vote: use it as `client`)',
        );
      }
      validateConnectionOptions(`lock.nodes[${i}]`, conn);
      return { ...conn, failFast: true, commandTimeoutMs: conn.commandTimeoutMs ?? nodeCommandTimeoutMs };
    });
    if (nodes.length === 2) {
      throw new RedisConfigError('lock.nodes', 'a quorum of 2 nodes tolerates no failure: use 1, 3, 5... nodes');
    }
  }
  return {
    client: options.client ?? 'default',
    nodes,
    nodeCommandTimeoutMs,
    defaultTtlMs: options.defaultTtlMs ?? 10_000,
    defaultWaitMs: options.defaultWaitMs ?? 5_000,
    retryDelayMs: options.retryDelayMs ?? 100,
    jitterMs: options.jitterMs ?? 50,
    driftFactor: options.driftFactor ?? 0.01,
    fencing: options.fencing ?? true,
    fenceTtlMs: options.fenceTtlMs ?? 30 * 24 * 3_600_000,
  };
}

/** Options of one `LockService.acquire()` call. Integers, milliseconds. */
export interface AcquireOptions {
  /** Lease: the lock expires by itself after this long unless extended (default: module `defaultTtlMs`). */
  ttlMs?: number;
  /** Extra attempts after the first (default: as many as fit in `waitMs`). */
  retryCount?: number;
  /** Longest total wait for a busy lock (default: module `defaultWaitMs`; 0 = one attempt). */
  waitMs?: number;
  /** Pause between attempts (default: module `retryDelayMs`). */
  retryDelayMs?: number;
  /** Random part of each pause (default: module `jitterMs`). */
  jitterMs?: number;
}

/** Options of `LockService.using()`. */
export interface UsingOptions extends AcquireOptions {
  /** Extend the lock (every ttlMs/3) while the work runs (default true). */
  autoExtend?: boolean;
}
