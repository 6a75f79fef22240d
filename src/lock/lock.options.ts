import { OptionChecker, check } from '../core';
import { DEFAULT_REDIS_CLIENT, type RedisConnectionOptions } from '../redis';
import { validateConnectionOptions } from '../redis/redis.validation';
import { LockOptionsError } from './lock.errors';

/** Options of `LockModule.forRoot()` / `forRootAsync()`. Every duration is in milliseconds. */
export interface LockModuleOptions {
  /**
   * Name of the RedisModule client to lock on when `nodes` is not given (default `default`); semaphores and the
   * fencing counters of a quorum live on it too. A Cluster counts as ONE vote.
   */
  clientName?: string;
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
   * Idle lifetime of a resource's fencing counter (default 30 days; 0 = forever): it lives at least this long after
   * its last acquisition, at most 9/8 of it (its TTL is renewed only once less than this is left, not at every
   * acquisition). A counter that expired restarts at 1: a store holding a higher token refuses once, then
   * `advanceFence()`.
   */
  fenceTtlMs?: number;
}

/** Options after validation, defaults filled in. */
export interface ResolvedLockOptions {
  /** See {@link LockModuleOptions.clientName}. */
  clientName: string;
  /** Independent nodes, normalised to connection options (empty: lock on `clientName`). */
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

/** Largest accepted `driftFactor` (exclusive): half the lease lost to drift leaves nothing to work with. */
const MAX_DRIFT_FACTOR = 0.5;

/** Validates LockModule options; throws `RedisConfigError` naming the option (e.g. `lock.nodes[1].url`). */
export function resolveLockOptions(options: LockModuleOptions = {}): ResolvedLockOptions {
  const o = (check.object('lock', options) ?? {}) as LockModuleOptions & { client?: unknown };
  if (o.client !== undefined) check.fail('lock.client', 'is now called `clientName` (a RedisModule client name)');
  const driftFactor = check.finite('lock.driftFactor', o.driftFactor, { min: 0 }) ?? 0.01;
  if (driftFactor >= MAX_DRIFT_FACTOR) {
    check.fail('lock.driftFactor', `must be below ${MAX_DRIFT_FACTOR}, got ${driftFactor}`);
  }
  const nodeCommandTimeoutMs = check.durationMs('lock.nodeCommandTimeoutMs', o.nodeCommandTimeoutMs, { min: 1 }) ?? 500;
  return {
    clientName: check.string('lock.clientName', o.clientName) ?? DEFAULT_REDIS_CLIENT,
    nodes: resolveNodes(o.nodes, nodeCommandTimeoutMs),
    nodeCommandTimeoutMs,
    defaultTtlMs: check.durationMs('lock.defaultTtlMs', o.defaultTtlMs, { min: 1 }) ?? 10_000,
    defaultWaitMs: check.durationMs('lock.defaultWaitMs', o.defaultWaitMs) ?? 5_000,
    retryDelayMs: check.durationMs('lock.retryDelayMs', o.retryDelayMs) ?? 100,
    jitterMs: check.durationMs('lock.jitterMs', o.jitterMs) ?? 50,
    driftFactor,
    fencing: check.boolean('lock.fencing', o.fencing) ?? true,
    fenceTtlMs: check.durationMs('lock.fenceTtlMs', o.fenceTtlMs) ?? 30 * 24 * 3_600_000,
  };
}

function resolveNodes(nodes: unknown, nodeCommandTimeoutMs: number): RedisConnectionOptions[] {
  if (nodes === undefined) return [];
  if (!Array.isArray(nodes) || nodes.length === 0) {
    return check.fail('lock.nodes', 'must be a non-empty array of URLs or connection options');
  }
  const resolved = nodes.map((node: unknown, i): RedisConnectionOptions => {
    const path = `lock.nodes[${i}]`;
    const conn = (typeof node === 'string' ? { url: node } : { ...check.object(path, node) }) as RedisConnectionOptions;
    if (conn.nodes || conn.sentinels) {
      check.fail(
        path,
        'must be one independent server (a Cluster or Sentinel group is one vote: use it as `clientName`)',
      );
    }
    validateConnectionOptions(path, conn);
    return { ...conn, failFast: true, commandTimeoutMs: conn.commandTimeoutMs ?? nodeCommandTimeoutMs };
  });
  if (resolved.length === 2) {
    check.fail('lock.nodes', 'a quorum of 2 nodes tolerates no failure: use 1, 3, 5... nodes');
  }
  return resolved;
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
  /**
   * Make the lock `LockService.current()` inside the work (an AsyncLocalStorage around it). Default false for
   * `using()`, whose work gets the handle as its second argument; true for `@WithLock`, whose method has no other
   * way to see it. On Node 20 a live AsyncLocalStorage slows every promise of the process while work runs under it.
   */
  context?: boolean;
}

/** The options of one lock call with the module's defaults filled in. Milliseconds. */
export interface ResolvedLockCall {
  /** Lease. */
  ttlMs: number;
  /** Extra attempts after the first (`Infinity`: bounded by `waitMs` only). */
  retryCount: number;
  /** Longest total wait for a busy lock (`Infinity`: bounded by `retryCount` only). */
  waitMs: number;
  /** Pause between attempts. */
  retryDelayMs: number;
  /** Random part of each pause. */
  jitterMs: number;
  /** Extend the lease while `using()` work runs. */
  autoExtend: boolean;
}

/** Shortest lease a lock call may ask for, in milliseconds (the watchdog extends every third of it). */
export const MIN_LOCK_TTL_MS = 30;

/** The checker of lock and semaphore call arguments: failures are {@link LockOptionsError}s naming the argument. */
export const lockArguments: OptionChecker = new OptionChecker((path, problem) => new LockOptionsError(path, problem));

/**
 * Checks the options of one lock call (`acquire`, `using`, `@WithLock`) without filling defaults.
 * @param prefix put before every option name in errors, e.g. `@WithLock(Inventory.reserve).`
 */
export function checkLockCall(options: UsingOptions, prefix = ''): void {
  if (lockArguments.object(`${prefix}options`, options) === undefined) return;
  const ttlMs = lockArguments.durationMs(`${prefix}ttlMs`, options.ttlMs, { min: 1 });
  if (ttlMs !== undefined) checkMinTtl(ttlMs, `${prefix}ttlMs`);
  lockArguments.durationMs(`${prefix}waitMs`, options.waitMs);
  lockArguments.durationMs(`${prefix}retryDelayMs`, options.retryDelayMs);
  lockArguments.durationMs(`${prefix}jitterMs`, options.jitterMs);
  lockArguments.nonNegativeInt(`${prefix}retryCount`, options.retryCount);
  lockArguments.boolean(`${prefix}autoExtend`, options.autoExtend);
  lockArguments.boolean(`${prefix}context`, options.context);
}

/** Checks the options of one lock call and fills in the module's defaults. */
export function resolveLockCall(given: UsingOptions, defaults: ResolvedLockOptions): ResolvedLockCall {
  checkLockCall(given);
  const options = given ?? {};
  const ttlMs = options.ttlMs ?? checkMinTtl(defaults.defaultTtlMs, 'ttlMs');
  return {
    ttlMs,
    retryCount: options.retryCount ?? Number.POSITIVE_INFINITY,
    waitMs: options.waitMs ?? (options.retryCount !== undefined ? Number.POSITIVE_INFINITY : defaults.defaultWaitMs),
    retryDelayMs: options.retryDelayMs ?? defaults.retryDelayMs,
    jitterMs: options.jitterMs ?? defaults.jitterMs,
    autoExtend: options.autoExtend ?? true,
  };
}

function checkMinTtl(ttlMs: number, path: string): number {
  if (ttlMs < MIN_LOCK_TTL_MS) lockArguments.fail(path, `must be at least ${MIN_LOCK_TTL_MS} ms, got ${ttlMs}`);
  return ttlMs;
}
