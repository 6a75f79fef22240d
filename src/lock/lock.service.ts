import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ExecutionError, Lock, Redlock, ResourceLockedError, type ExecutionStats } from '@sesamecare-oss/redlock';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { RedisService, RedisUnavailableError, isRedisConnectionError, type RedisClient } from '../redis';
import { LOCK_MODULE_OPTIONS } from './lock.constants';
import { LockLostError, LockNotAcquiredError, LockOptionsError } from './lock.errors';
import { LockHandle, type LockHandleOwner } from './lock.handle';
import { checkDuration, checkResources, checkSameSlot, taggedResource } from './lock.keys';
import { retryPauseMs, sleep } from './lock.timing';
import {
  resolveLockOptions,
  type AcquireOptions,
  type LockModuleOptions,
  type ResolvedLockOptions,
  type UsingOptions,
} from './lock.options';

/** Counters of one LockService since startup, for a metrics module. */
export interface LockStats {
  /** Locks acquired. */
  acquired: number;
  /** Acquisitions given up because the lock stayed busy (LockNotAcquiredError). */
  failed: number;
  /** Acquisitions that failed because the nodes could not be reached (RedisUnavailableError). */
  unavailable: number;
  /** Total milliseconds spent in `acquire()` (waiting included), successful or not. */
  waitMs: number;
  /** Successful lease extensions (watchdog and explicit). */
  extensions: number;
  /** Locks lost while `using()` work ran (LockLostError). */
  lost: number;
  /** Locks released on a quorum. */
  released: number;
}

/**
 * Acquisition on one client, atomic: Redlock's acquire (refuse if any key exists, else SET each key to our value
 * with PX ttl) plus, with fencing on, the INCR of each resource's fence key, in the same script (one round trip).
 * KEYS: n lock keys [+ n fence keys]; ARGV: value, ttlMs, fencing (1/0), fence key TTL in ms (0: none).
 * Returns nil when busy, else the tokens.
 */
const ACQUIRE_FENCED_LUA = `
local fencing = ARGV[3] == '1'
local n = fencing and (#KEYS / 2) or #KEYS
for i = 1, n do
  if redis.call('exists', KEYS[i]) == 1 then return false end
end
for i = 1, n do redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
local out = {}
if fencing then
  for i = 1, n do
    out[i] = redis.call('incr', KEYS[n + i])
    if ARGV[4] ~= '0' then redis.call('pexpire', KEYS[n + i], ARGV[4]) end
  end
end
return out`;

/** Raises a fence counter to at least ARGV[1] (never lowers it). Returns the counter. */
const FENCE_ADVANCE_LUA = `
local current = tonumber(redis.call('get', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if current < wanted then redis.call('set', KEYS[1], ARGV[1]) return wanted end
return current`;

/** Fence script for independent nodes: INCR every fence key on the shared client (ARGV[1]: key TTL ms, 0: none). */
const FENCE_INCR_LUA = `
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('incr', KEYS[i])
  if ARGV[1] ~= '0' then redis.call('pexpire', KEYS[i], ARGV[1]) end
end
return out`;

interface FenceCommands {
  nrkLockFenceAdvance(numKeys: number, key: string, atLeast: number): Promise<number>;
  nrkLockAcquire(numKeys: number, ...args: Array<string | number>): Promise<number[] | null>;
  nrkLockFenceIncr(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
}

/** ioredis client states in which no command can be answered now. */
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);

/** Outcome of a failed attempt: busy (another holder) or not (the nodes failed, firstError says how). */
interface Verdict {
  locked: boolean;
  firstError?: Error;
}

function statsError(stats: ExecutionStats): Verdict {
  let firstError: Error | undefined;
  for (const err of stats.votesAgainst.values()) {
    if (err instanceof ResourceLockedError) return { locked: true };
    firstError ??= err;
  }
  return { locked: stats.votesAgainst.size === 0, firstError };
}

/**
 * Distributed locks (Redlock) on the shared Redis client or on N independent nodes: `acquire()` returns a
 * {@link LockHandle} with fencing tokens; `using()` holds a lock while work runs, extends it, and aborts the
 * work with {@link LockLostError} if it is lost anyway.
 */
@Injectable()
export class LockService implements OnModuleInit, BeforeApplicationShutdown, LockHandleOwner {
  private readonly logger = new Logger('LockService');
  private readonly options: ResolvedLockOptions;
  private redlock!: Redlock;
  private clients: RedisClient[] = [];
  private fenceClient!: RedisClient & FenceCommands;
  private cluster = false;
  private prefix = '';
  private closing = false;
  private readonly active = new Set<LockHandle>();
  /**
   * Lock values are `<random id of this LockService>:<sequence>`: unique per acquisition like Redlock's 16 random
   * bytes per call, without a synchronous CSPRNG call on every acquire (~13% of the CPU at 50 callers).
   */
  private readonly valuePrefix = randomBytes(16).toString('hex');
  private valueSeq = 0;
  private readonly watchdogs = new Set<() => void>();
  private readonly storage = new AsyncLocalStorage<LockHandle>();
  private readonly counters: LockStats = {
    acquired: 0,
    failed: 0,
    unavailable: 0,
    waitMs: 0,
    extensions: 0,
    lost: 0,
    released: 0,
  };

  constructor(
    private readonly redis: RedisService,
    @Inject(LOCK_MODULE_OPTIONS) options: LockModuleOptions,
  ) {
    this.options = resolveLockOptions(options);
  }

  /** Counters since startup (a copy): acquired, failed, unavailable, waitMs, extensions, lost, released. */
  get stats(): LockStats {
    return { ...this.counters };
  }

  /** Number of votes a lock needs: 1 on one client, a majority with independent nodes. */
  get quorum(): number {
    return Math.floor(this.clients.length / 2) + 1;
  }

  /** The lock held by the current `using()` / `@WithLock` call (AsyncLocalStorage), if any. */
  current(): LockHandle | undefined {
    return this.storage.getStore();
  }

  /** Startup: creates the clients of independent nodes (waits for a quorum of them) and the Redlock instance. */
  async onModuleInit(): Promise<void> {
    this.prefix = this.redis.prefixFor('lock');
    const shared = this.redis.getClient(this.options.client);
    if (this.options.nodes.length > 0) {
      this.clients = await Promise.all(
        this.options.nodes.map((node, i) => this.redis.createClient(`lock:${i}`, node, false)),
      );
      await this.waitForQuorum(10_000);
    } else {
      this.clients = [shared];
    }
    this.cluster = this.clients.some((c) => c.isCluster) || shared.isCluster;
    for (const c of this.clients) {
      c.defineCommand('nrkLockAcquire', { lua: ACQUIRE_FENCED_LUA });
    }
    // Fencing counters live on the lock client (one client) or on the shared client (independent nodes).
    this.fenceClient = (this.clients.length === 1 ? this.clients[0] : shared) as RedisClient & FenceCommands;
    this.fenceClient.defineCommand('nrkLockFenceIncr', { lua: FENCE_INCR_LUA });
    this.fenceClient.defineCommand('nrkLockFenceAdvance', { lua: FENCE_ADVANCE_LUA });
    this.redlock = new Redlock(this.clients, {
      driftFactor: this.options.driftFactor,
      retryCount: 0,
      retryDelay: this.options.retryDelayMs,
      retryJitter: this.options.jitterMs,
    });
  }

  /** Shutdown: stops the watchdogs and releases every lock still held (before RedisModule closes the clients). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    for (const stop of this.watchdogs) stop();
    await Promise.all([...this.active].map((h) => h.release()));
  }

  /**
   * Raises the fencing counter of `resource` to at least `atLeast` (never lowers it) and returns it. For a store
   * that refused a write as stale because it saw a higher token than Redis now hands out (Redis restarted empty,
   * counter lost): pass the store's highest token so the next holder's token beats it.
   */
  async advanceFence(resource: string, atLeast: number): Promise<number> {
    const [r] = checkResources(resource);
    if (!Number.isSafeInteger(atLeast) || atLeast < 0) {
      throw new LockOptionsError('atLeast', `must be a non-negative safe integer, got ${String(atLeast)}`);
    }
    try {
      return Number(await this.fenceClient.nrkLockFenceAdvance(1, `${this.prefix}fence:${taggedResource(r)}`, atLeast));
    } catch (err) {
      if (!isRedisConnectionError(err)) throw err;
      throw new RedisUnavailableError(`Could not advance the fencing counter of ${r}`, { cause: err });
    }
  }

  /**
   * Acquires a lock on one or more resources, retrying while it is busy.
   * @throws LockOptionsError on bad arguments, LockNotAcquiredError when busy beyond the budget,
   *   RedisUnavailableError when a quorum of nodes cannot be reached.
   */
  async acquire(resources: string | readonly string[], options: AcquireOptions = {}): Promise<LockHandle> {
    const list = checkResources(resources);
    const o = this.resolveCall(options);
    if (this.cluster) checkSameSlot(list);
    const keys = list.map((r) => `${this.prefix}${taggedResource(r)}`);
    const fenceKeys = list.map((r) => `${this.prefix}fence:${taggedResource(r)}`);
    const started = Date.now();
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        this.checkReachable(list);
        const result = await this.attempt(list, keys, fenceKeys, o.ttlMs);
        if (result instanceof LockHandle) {
          this.counters.acquired++;
          return result;
        }
        // Busy, or the nodes failed: the last attempt's votes tell which (they are in by the time we would retry).
        const delay = retryPauseMs(o.retryDelayMs, o.jitterMs);
        const pauseStart = Date.now();
        const verdict = await Promise.race([result.verdict, sleep(Math.max(delay, 1)).then(() => undefined)]);
        if (verdict && !verdict.locked) {
          this.counters.unavailable++;
          throw new RedisUnavailableError(
            `Lock on ${list.join(', ')}: no quorum of Redis nodes reachable` +
              (verdict.firstError ? ` (${verdict.firstError.message})` : ''),
            { cause: verdict.firstError },
          );
        }
        const elapsed = Date.now() - started;
        if (attempts > o.retryCount || elapsed + delay > o.waitMs) {
          this.counters.failed++;
          throw new LockNotAcquiredError(list, await this.retryAfter(keys[0], o.retryDelayMs), attempts);
        }
        const left = delay - (Date.now() - pauseStart);
        if (left > 0) await sleep(left);
      }
    } finally {
      this.counters.waitMs += Date.now() - started;
    }
  }

  /**
   * Runs `work` while holding the lock: extends it every ttlMs/3 (unless `autoExtend: false`), aborts `signal`
   * and rejects with {@link LockLostError} if the lock is lost before the work ends, and always releases it.
   * The work's own error is passed through unchanged.
   */
  async using<T>(
    resources: string | readonly string[],
    work: (signal: AbortSignal, lock: LockHandle) => Promise<T> | T,
    options: UsingOptions = {},
  ): Promise<T> {
    const o = this.resolveCall(options);
    const handle = await this.acquire(resources, options);
    const controller = new AbortController();
    let lostError: LockLostError | undefined;
    let rejectLost: (err: Error) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    lost.catch(() => undefined);
    let stopped = false;
    let extendTimer: NodeJS.Timeout | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;
    const interval = Math.max(1, Math.floor(o.ttlMs / 3));

    const markLost = (reason: string, cause?: unknown) => {
      if (lostError || stopped) return;
      lostError = cause instanceof LockLostError ? cause : new LockLostError(handle.resources, reason, { cause });
      this.counters.lost++;
      controller.abort(lostError);
      rejectLost(lostError);
    };
    const armExpiry = () => {
      clearTimeout(expiryTimer);
      expiryTimer = setTimeout(
        () => {
          if (stopped) return;
          if (handle.expiresAt <= Date.now()) markLost('its lease expired before it could be extended');
          else armExpiry();
        },
        Math.max(1, handle.expiresAt - Date.now()),
      );
    };
    // Every ttl/3, but never later than halfway through what is left of the lease (a slow acquisition or a busy
    // event loop may have eaten part of it).
    const nextExtension = () => Math.max(1, Math.min(interval, Math.floor((handle.expiresAt - Date.now()) / 2)));
    const scheduleExtend = (delayMs: number) => {
      extendTimer = setTimeout(() => {
        void handle.extend(o.ttlMs).then(
          () => {
            if (stopped) return;
            armExpiry();
            scheduleExtend(nextExtension());
          },
          (err: unknown) => {
            if (stopped) return;
            if (err instanceof LockLostError || !handle.held) return markLost('it could not be extended', err);
            // Nodes unreachable for now: try again while the lease still runs.
            scheduleExtend(Math.max(1, Math.min(interval, Math.floor((handle.expiresAt - Date.now()) / 3))));
          },
        );
      }, delayMs);
    };
    const stop = () => {
      stopped = true;
      clearTimeout(extendTimer);
      clearTimeout(expiryTimer);
    };
    this.watchdogs.add(stop);
    armExpiry();
    if (o.autoExtend) scheduleExtend(nextExtension());

    try {
      const running = this.storage.run(handle, () => Promise.resolve().then(() => work(controller.signal, handle)));
      running.catch(() => undefined);
      const result = await Promise.race([running, lost]);
      if (lostError) throw lostError;
      if (!handle.held) {
        markLost('its lease expired while the work ran');
        throw lostError as unknown as LockLostError;
      }
      return result;
    } catch (err) {
      throw lostError ?? err;
    } finally {
      const wasLost = lostError !== undefined;
      stop();
      this.watchdogs.delete(stop);
      if (wasLost) void handle.release();
      else await handle.release();
    }
  }

  /** @internal LockHandle.extend() */
  async extendLock(handle: LockHandle, lock: Lock, ttlMs: number): Promise<Lock> {
    checkDuration('ttlMs', ttlMs, false);
    if (handle.released) throw new LockLostError(handle.resources, 'it was released');
    try {
      const extended = await this.redlock.extend(lock, ttlMs, { retryCount: 0 });
      this.counters.extensions++;
      return extended;
    } catch (err) {
      if (err instanceof ExecutionError) {
        if (err.attempts.length === 0)
          throw new LockLostError(handle.resources, 'its lease had expired', { cause: err });
        const last = err.attempts[err.attempts.length - 1];
        const verdict = await Promise.race([last.then(statsError), sleep(this.options.nodeCommandTimeoutMs)]);
        if (verdict && !verdict.locked && lock.expiration > Date.now()) {
          throw new RedisUnavailableError(
            `Could not extend the lock on ${handle.resources.join(', ')}: no quorum of Redis nodes reachable`,
            { cause: verdict.firstError },
          );
        }
        throw new LockLostError(handle.resources, 'it expired or was taken by another holder', { cause: err });
      }
      throw err;
    }
  }

  /** @internal LockHandle.release() */
  async releaseLock(_handle: LockHandle, lock: Lock): Promise<boolean> {
    this.active.delete(_handle);
    if (lock.expiration <= Date.now()) {
      // Expired (or lost): remove our value if it is still there, but report false.
      await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
      return false;
    }
    try {
      await this.redlock.release(lock, { retryCount: 0 });
      this.counters.released++;
      return true;
    } catch {
      return false;
    }
  }

  private resolveCall(options: UsingOptions) {
    if (options === null || typeof options !== 'object') throw new LockOptionsError('options', 'must be an object');
    checkDuration('ttlMs', options.ttlMs, false);
    checkDuration('waitMs', options.waitMs, true);
    checkDuration('retryDelayMs', options.retryDelayMs, true);
    checkDuration('jitterMs', options.jitterMs, true);
    if (
      options.retryCount !== undefined &&
      (typeof options.retryCount !== 'number' || !Number.isInteger(options.retryCount) || options.retryCount < 0)
    ) {
      throw new LockOptionsError('retryCount', `must be a non-negative integer, got ${String(options.retryCount)}`);
    }
    const ttlMs = options.ttlMs ?? this.options.defaultTtlMs;
    if (ttlMs < 30) throw new LockOptionsError('ttlMs', `must be at least 30 ms, got ${ttlMs}`);
    return {
      ttlMs,
      retryCount: options.retryCount ?? Number.POSITIVE_INFINITY,
      waitMs:
        options.waitMs ?? (options.retryCount !== undefined ? Number.POSITIVE_INFINITY : this.options.defaultWaitMs),
      retryDelayMs: options.retryDelayMs ?? this.options.retryDelayMs,
      jitterMs: options.jitterMs ?? this.options.jitterMs,
      autoExtend: options.autoExtend ?? true,
    };
  }

  /**
   * One attempt. Resolves a LockHandle on success; otherwise the verdict of the failed attempt (a promise that
   * settles once every node answered: busy, or nodes unreachable).
   */
  private async attempt(
    resources: string[],
    keys: string[],
    fenceKeys: string[],
    ttlMs: number,
  ): Promise<LockHandle | { verdict: Promise<Verdict> }> {
    const fencing = this.options.fencing;
    const drift = Math.round(this.options.driftFactor * ttlMs) + 2;
    let lock: Lock;
    let tokens: number[] = [];
    if (this.clients.length === 1) {
      // One client: our own script, Redlock's acquisition and the fencing INCR in one atomic round trip.
      const value = `${this.valuePrefix}:${(this.valueSeq++).toString(36)}`;
      const start = Date.now();
      const all = fencing ? [...keys, ...fenceKeys] : keys;
      let reply: number[] | null;
      try {
        reply = await (this.clients[0] as RedisClient & FenceCommands).nrkLockAcquire(
          all.length,
          ...all,
          value,
          ttlMs,
          fencing ? 1 : 0,
          this.options.fenceTtlMs,
        );
      } catch (err) {
        if (!isRedisConnectionError(err)) throw err;
        return { verdict: Promise.resolve({ locked: false, firstError: err as Error }) };
      }
      if (reply === null) return { verdict: Promise.resolve({ locked: true }) };
      tokens = reply;
      lock = new Lock(this.redlock, keys, value, [], start + ttlMs - drift, { retryCount: 0 });
    } else {
      // Independent nodes: Redlock's quorum acquisition, then tokens from the shared client's counter.
      try {
        lock = await this.redlock.acquire(keys, ttlMs, { retryCount: 0 });
      } catch (err) {
        if (err instanceof ExecutionError) return { verdict: err.attempts[err.attempts.length - 1].then(statsError) };
        throw err;
      }
      if (fencing) {
        try {
          tokens = await this.fenceClient.nrkLockFenceIncr(fenceKeys.length, ...fenceKeys, this.options.fenceTtlMs);
        } catch (err) {
          await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
          throw new RedisUnavailableError(`Could not draw the fencing token for ${resources.join(', ')}`, {
            cause: err,
          });
        }
        // Tokens are valid only if drawn while we surely held the lock; otherwise count it as a failed attempt.
        if (lock.expiration <= Date.now()) {
          await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
          return { verdict: Promise.resolve({ locked: true }) };
        }
      }
    }
    const fences: Record<string, number> = {};
    resources.forEach((r, i) => {
      if (tokens[i] !== undefined) fences[r] = Number(tokens[i]);
    });
    const handle = new LockHandle(this, resources, lock, fences);
    this.active.add(handle);
    if (this.closing) {
      await handle.release();
      throw new LockLostError(resources, 'the application is shutting down');
    }
    return handle;
  }

  /** Fails at once when fewer than a quorum of clients are connected (no command would be answered). */
  private checkReachable(resources: string[]): void {
    const live = this.clients.filter((c) => !DISCONNECTED.has(c.status)).length;
    if (live < this.quorum) {
      this.counters.unavailable++;
      throw new RedisUnavailableError(
        `Lock on ${resources.join(', ')}: only ${live} of ${this.clients.length} Redis lock node(s) connected, ` +
          `${this.quorum} needed`,
      );
    }
  }

  private async retryAfter(key: string, fallbackMs: number): Promise<number> {
    const client = this.clients.find((c) => c.status === 'ready') ?? this.clients[0];
    try {
      const pttl = await client.pttl(key);
      return pttl > 0 ? pttl : Math.max(1, fallbackMs);
    } catch {
      return Math.max(1, fallbackMs);
    }
  }

  private async waitForQuorum(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.clients.filter((c) => c.status === 'ready').length < this.quorum) {
      if (Date.now() > deadline) {
        throw new RedisUnavailableError(
          `LockModule: fewer than ${this.quorum} of ${this.clients.length} lock nodes ready within ${timeoutMs} ms`,
        );
      }
      await sleep(20);
    }
    const down = this.clients.length - this.clients.filter((c) => c.status === 'ready').length;
    if (down > 0) this.logger.warn(`${down} of ${this.clients.length} lock nodes not ready at startup`);
  }
}
