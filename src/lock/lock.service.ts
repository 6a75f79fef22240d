import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ExecutionError, Lock, Redlock, ResourceLockedError, type ExecutionStats } from '@sesamecare-oss/redlock';
import { randomBytes } from 'node:crypto';
import { settleWithin, sleep, type LuaArg, type LuaScript } from '../core';
import { traced, type TraceSpan } from '../core/tracing';
import {
  RedisService,
  RedisUnavailableError,
  isRedisConnectionError,
  toRedisUnavailable,
  type RedisClient,
} from '../redis';
import { LockCommands } from './lock.commands';
import { LOCK_MODULE_OPTIONS } from './lock.constants';
import { LockContext } from './lock.context';
import { LockLostError, LockNotAcquiredError } from './lock.errors';
import { LockHandle, type LockHandleOwner, type LockLease } from './lock.handle';
import { LockKeys, checkResources, checkSameSlot } from './lock.keys';
import {
  lockArguments,
  resolveLockCall,
  resolveLockOptions,
  type AcquireOptions,
  type LockModuleOptions,
  type ResolvedLockCall,
  type ResolvedLockOptions,
  type UsingOptions,
} from './lock.options';
import {
  ACQUIRE_FENCED,
  ACQUIRE_ONE_FENCED,
  EXTEND,
  FENCE_ADVANCE,
  FENCE_INCR,
  RELEASE,
  fenceRenewMs,
} from './lock.scripts';
import { retryPauseMs } from './lock.timing';
import { LockWatchdog, type LockWatch } from './lock.watchdog';

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

/** ioredis client states in which no command can be answered now. */
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);

/** See `LockService.unreachableAttempts`. */
const UNREACHABLE_ATTEMPTS_ON_NODES = 3;

/** How long startup waits for a quorum of independent nodes, in milliseconds. */
const QUORUM_STARTUP_TIMEOUT_MS = 10_000;

/** Outcome of a failed attempt: busy (another holder) or not (the nodes failed, firstError says how). */
interface Verdict {
  locked: boolean;
  firstError?: Error;
}

/** Whether `value` is a promise or another thenable (work that did not end synchronously). */
function isThenable<T>(value: Promise<T> | T): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** Notes the wait (ms) and the fencing token of an acquired lock on its span. */
function lockAcquired(span: TraceSpan, handle: LockHandle, startedMs: number): LockHandle {
  span.setAttribute('nrk.lock.wait_ms', Date.now() - startedMs);
  span.setAttribute('nrk.lock.fence', handle.fence);
  return handle;
}

/** What `using()` work that declares no parameters is called with: it cannot see a signal, so none is made. */
const NO_SIGNAL = undefined as unknown as AbortSignal;

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
 * {@link LockHandle} with fencing tokens; `using()` holds a lock while work runs, extends it (the
 * {@link LockWatchdog}), and aborts the work with {@link LockLostError} if it is lost anyway.
 */
@Injectable()
export class LockService implements OnModuleInit, BeforeApplicationShutdown, LockHandleOwner {
  private readonly logger = new Logger('LockService');
  private readonly options: ResolvedLockOptions;
  private redlock!: Redlock;
  private clients: RedisClient[] = [];
  /** Where the fencing counters live: the lock client, or the shared client with independent nodes. */
  private fenceClient!: RedisClient;
  private cluster = false;
  /**
   * One client (no independent nodes): acquire, extend and release run our own scripts on it, bounded by the shared
   * deadline sweeper with the client's `commandTimeout` (undefined: no bound but the client's own) and written with
   * the other commands of the tick; redlock serves independent nodes only.
   */
  private single: RedisClient | undefined;
  /**
   * Attempts in a row that may find no quorum of reachable nodes before `acquire()` gives up with
   * RedisUnavailableError: 1 on one client (it is down or frozen); {@link UNREACHABLE_ATTEMPTS_ON_NODES} on
   * independent nodes, where one dead node plus one late answer from a live one (a busy process, a command timeout)
   * is a passing miss, not an outage.
   */
  private unreachableAttempts = 1;
  /** The commands on {@link single} (swept, tick-batched); undefined with independent nodes. */
  private singleCommands: LockCommands | undefined;
  private keys = new LockKeys('');
  private closing = false;
  private readonly active = new Set<LockHandle>();
  /**
   * Lock values are `<random id of this LockService>:<sequence>`: unique per acquisition like Redlock's 16 random
   * bytes per call, without a synchronous CSPRNG call on every acquire (~13% of the CPU at 50 callers).
   */
  private readonly valuePrefix = randomBytes(16).toString('hex');
  private valueSeq = 0;
  private readonly watchdog = new LockWatchdog();
  /** The TTL a fencing counter is renewed to (see `fenceRenewMs`), in milliseconds. */
  private readonly fenceRenewMs: number;
  private readonly context = new LockContext();
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
    this.fenceRenewMs = fenceRenewMs(this.options.fenceTtlMs);
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
    return this.context.current();
  }

  /** Startup: creates the clients of independent nodes (waits for a quorum of them) and the Redlock instance. */
  async onModuleInit(): Promise<void> {
    this.keys = new LockKeys(this.redis.prefixFor('lock'));
    const shared = this.redis.getClient(this.options.clientName);
    if (this.options.nodes.length > 0) {
      this.clients = await Promise.all(
        this.options.nodes.map((node, i) => this.redis.createClient(`lock:${i}`, node, false)),
      );
      await this.waitForQuorum(QUORUM_STARTUP_TIMEOUT_MS);
    } else {
      this.clients = [shared];
    }
    this.cluster = this.clients.some((c) => c.isCluster) || shared.isCluster;
    this.fenceClient = this.clients.length === 1 ? this.clients[0] : shared;
    this.single = this.clients.length === 1 ? this.clients[0] : undefined;
    this.unreachableAttempts = this.single ? 1 : UNREACHABLE_ATTEMPTS_ON_NODES;
    this.singleCommands = this.single ? new LockCommands(this.single) : undefined;
    this.redlock = new Redlock(this.clients, {
      driftFactor: this.options.driftFactor,
      retryCount: 0,
      retryDelay: this.options.retryDelayMs,
      retryJitter: this.options.jitterMs,
    });
  }

  /**
   * Shutdown: the locks of running `using()` / `@WithLock` work are lost (their signal aborts with LockLostError),
   * and every lock still held is released (before RedisModule closes the clients).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const held = [...this.active];
    this.closing = true;
    this.watchdog.loseAll('the application is shutting down');
    await Promise.all(held.map((h) => h.release()));
  }

  /**
   * Raises the fencing counter of `resource` to at least `atLeast` (never lowers it) and returns it. For a store
   * that refused a write as stale because it saw a higher token than Redis now hands out (Redis restarted empty,
   * counter lost): pass the store's highest token so the next holder's token beats it.
   */
  async advanceFence(resource: string, atLeast: number): Promise<number> {
    const [r] = checkResources(resource);
    const wanted = lockArguments.nonNegativeInt('atLeast', atLeast) ?? lockArguments.fail('atLeast', 'is required');
    try {
      return Number(await FENCE_ADVANCE.run<number>(this.fenceClient, [this.keys.fence(r)], [wanted]));
    } catch (err) {
      throw toRedisUnavailable(err, `Could not advance the fencing counter of ${r}`);
    }
  }

  /**
   * Acquires a lock on one or more resources, retrying while it is busy.
   * @throws LockOptionsError on bad arguments, LockNotAcquiredError when busy beyond the budget,
   *   RedisUnavailableError when a quorum of nodes cannot be reached.
   */
  acquire(resources: string | readonly string[], options: AcquireOptions = {}): Promise<LockHandle> {
    // Not async: the retry loop's own promise is the only one per call (argument errors still reject).
    let list: string[];
    let call: ResolvedLockCall;
    try {
      list = checkResources(resources);
      call = resolveLockCall(options, this.options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.acquireChecked(list, call);
  }

  /**
   * Runs `work` while holding the lock: extends it every ttlMs/3 (unless `autoExtend: false`), aborts `signal`
   * and rejects with {@link LockLostError} if the lock is lost before the work ends, and always releases it.
   * The work's own error is passed through unchanged. Work that declares no parameters (`() => ...`) is given no
   * signal (none is made); `LockService.current()` sees the lock inside the work only with `context: true`.
   */
  using<T>(
    resources: string | readonly string[],
    work: (signal: AbortSignal, lock: LockHandle) => Promise<T> | T,
    options: UsingOptions = {},
  ): Promise<T> {
    // Not async, and no AbortController unless the work declares a parameter to receive its signal (one costs
    // microseconds); no lock context unless asked for (`context: true`).
    let call: ResolvedLockCall;
    let list: string[];
    try {
      call = resolveLockCall(options, this.options);
      list = checkResources(resources);
    } catch (err) {
      return Promise.reject(err);
    }
    const context = options?.context === true;
    return this.acquireChecked(list, call).then((handle) => {
      if (work.length === 0) return this.holdWhile(handle, call, context, () => work(NO_SIGNAL, handle));
      const controller = new AbortController();
      return this.holdWhile(handle, call, context, (h) => work(controller.signal, h), controller);
    });
  }

  /**
   * @internal `@WithLock`: {@link using} for work that takes no arguments, so no AbortSignal is made for it
   * (the decorated method could not see one).
   */
  async runLocked<T>(resources: readonly string[], options: UsingOptions, work: () => Promise<T> | T): Promise<T> {
    const call = resolveLockCall(options, this.options);
    const handle = await this.acquireChecked(checkResources(resources), call);
    return this.holdWhile(handle, call, options?.context !== false, work);
  }

  /** @internal LockHandle.extend() */
  async extendLock(handle: LockHandle, lease: LockLease, ttlMs: number): Promise<LockLease> {
    if (lockArguments.durationMs('ttlMs', ttlMs, { min: 1 }) === undefined) lockArguments.fail('ttlMs', 'is required');
    if (handle.released) throw new LockLostError(handle.resources, 'it was released');
    if (!(lease instanceof Lock)) return this.extendSingle(handle, lease, ttlMs);
    const lock = lease;
    try {
      const extended = await this.redlock.extend(lock, ttlMs, { retryCount: 0 });
      this.counters.extensions++;
      return extended;
    } catch (err) {
      if (!(err instanceof ExecutionError)) throw err;
      if (err.attempts.length === 0) throw new LockLostError(handle.resources, 'its lease had expired', { cause: err });
      // The votes of the last attempt tell "taken or expired" from "nodes unreachable" (while the lease still runs).
      const last = err.attempts[err.attempts.length - 1];
      const verdict = await settleWithin(last.then(statsError), this.options.nodeCommandTimeoutMs, undefined);
      if (verdict && !verdict.locked && lock.expiration > Date.now()) {
        throw new RedisUnavailableError(
          `Could not extend the lock on ${handle.resources.join(', ')}: no quorum of Redis nodes reachable`,
          { cause: verdict.firstError },
        );
      }
      throw new LockLostError(handle.resources, 'it expired or was taken by another holder', { cause: err });
    }
  }

  /** @internal LockHandle.release() */
  releaseLock(handle: LockHandle, lease: LockLease): Promise<boolean> {
    this.active.delete(handle);
    // Expired (or lost): remove our value if it is still there, but report false.
    const expired = lease.expiration <= Date.now();
    const counted = (ok: boolean): boolean => {
      if (!ok || expired) return false;
      this.counters.released++;
      return true;
    };
    if (lease instanceof Lock) {
      return this.redlock.release(lease, { retryCount: 0 }).then(
        () => counted(true),
        () => false,
      );
    }
    // One client: one promise on the script's reply (a release is on every hot path).
    return this.runSingle<number>(RELEASE, lease.resources, [lease.value]).then(
      (deleted) => counted(Number(deleted) === lease.resources.length),
      () => false,
    );
  }

  /** {@link extendLock} on one client: our EXTEND script, the verdict from its reply or its error. */
  private async extendSingle(handle: LockHandle, lease: LockLease, ttlMs: number): Promise<LockLease> {
    if (lease.expiration <= Date.now()) throw new LockLostError(handle.resources, 'its lease had expired');
    const start = Date.now();
    let extended: number;
    try {
      extended = Number(await this.runSingle<number>(EXTEND, lease.resources, [lease.value, ttlMs]));
    } catch (err) {
      if (!isRedisConnectionError(err)) throw err;
      if (lease.expiration > Date.now()) {
        throw new RedisUnavailableError(
          `Could not extend the lock on ${handle.resources.join(', ')}: no quorum of Redis nodes reachable`,
          { cause: err },
        );
      }
      throw new LockLostError(handle.resources, 'its lease expired while Redis could not be reached', { cause: err });
    }
    if (extended !== lease.resources.length) {
      throw new LockLostError(handle.resources, 'it expired or was taken by another holder');
    }
    this.counters.extensions++;
    return { resources: lease.resources, value: lease.value, expiration: start + ttlMs - this.driftMs(ttlMs) };
  }

  /** Clock-drift allowance of a lease, in milliseconds (as redlock computes it). */
  private driftMs(ttlMs: number): number {
    return Math.round(this.options.driftFactor * ttlMs) + 2;
  }

  /**
   * Runs `script` on the one client: bounded by the shared deadline sweeper (no timer per call); written with the
   * other commands of this tick while the connection has commands in flight (concurrent callers), at once otherwise.
   */
  private runSingle<T>(script: LuaScript, keys: readonly string[], args: readonly LuaArg[]): Promise<T> {
    return (this.singleCommands as LockCommands).script<T>(script, keys, args);
  }

  /** One plain command on the one client, like {@link runSingle}. */
  private commandSingle<T>(name: string, args: LuaArg[]): Promise<T> {
    return (this.singleCommands as LockCommands).command<T>(name, args);
  }

  /**
   * Runs `work` under the held lock `handle`: watched by the watchdog once it awaits, with the handle as the lock
   * context when `context` is set. Settles with the work's outcome after the release, or at once with the
   * LockLostError (and `controller` aborted) when the lock is lost first.
   */
  private holdWhile<T>(
    handle: LockHandle,
    call: ResolvedLockCall,
    context: boolean,
    work: (handle: LockHandle) => Promise<T> | T,
    controller?: AbortController,
  ): Promise<T> {
    // Tracing on: the held section is a span `lock held`, parent of the spans of the work.
    const attributes = { 'nrk.lock.resources': handle.resources as string[], 'nrk.lock.fence': handle.fence };
    return traced('lock held', { attributes }, () => this.holdUntraced(handle, call, context, work, controller));
  }

  /** {@link holdWhile} without its span. */
  private holdUntraced<T>(
    handle: LockHandle,
    call: ResolvedLockCall,
    context: boolean,
    work: (handle: LockHandle) => Promise<T> | T,
    controller?: AbortController,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Work that ends synchronously needs no watch (nor promises of its own): it is watched only once it awaits.
      let watch: LockWatch | undefined;
      const startWatch = (): LockWatch =>
        (watch = this.watchdog.watch(handle, call.ttlMs, call.autoExtend, (lost) => {
          controller?.abort(lost);
          if (!this.closing) {
            this.counters.lost++;
            void handle.release(); // at shutdown, beforeApplicationShutdown releases it and waits
          }
          reject(lost);
        }));
      const onValue = (value: T): void => {
        if (context) this.context.leave();
        if (watch?.ended) return; // lost: already rejected
        if (!handle.held) return this.watchdog.lose(watch ?? startWatch(), 'its lease expired while the work ran');
        if (watch) this.watchdog.stop(watch);
        const done = () => resolve(value);
        void handle.release().then(done, done);
      };
      const onError = (err: unknown): void => {
        if (context) this.context.leave();
        if (watch?.ended) return;
        if (watch) this.watchdog.stop(watch);
        const done = () => reject(err);
        void handle.release().then(done, done);
      };
      let result: Promise<T> | T;
      try {
        result = context ? this.context.run(handle, () => work(handle)) : work(handle);
      } catch (err) {
        return onError(err); // thrown synchronously: a rejection like any other
      }
      if (!isThenable(result)) return onValue(result);
      startWatch();
      Promise.resolve(result).then(onValue, onError);
    });
  }

  /** {@link acquireUntraced} in a span `lock acquire` (tracing on) telling the wait and the fencing token. */
  private acquireChecked(list: string[], call: ResolvedLockCall): Promise<LockHandle> {
    return traced('lock acquire', { attributes: { 'nrk.lock.resources': list } }, (span) => {
      const startedMs = Date.now();
      return span
        ? this.acquireUntraced(list, call).then((h) => lockAcquired(span, h, startedMs))
        : this.acquireUntraced(list, call);
    });
  }

  /** {@link acquire} with checked resources and resolved options. */
  private async acquireUntraced(list: string[], call: ResolvedLockCall): Promise<LockHandle> {
    if (this.cluster) checkSameSlot(list);
    const keys = list.map((r) => this.keys.lock(r));
    const fenceKeys = this.options.fencing ? list.map((r) => this.keys.fence(r)) : [];
    const started = Date.now();
    let attempts = 0;
    let unreachable = 0; // attempts in a row that found no quorum of reachable nodes
    try {
      for (;;) {
        attempts++;
        this.checkReachable(list);
        const result = await this.attempt(list, keys, fenceKeys, call.ttlMs);
        if (result instanceof LockHandle) {
          this.counters.acquired++;
          return result;
        }
        // Busy, or the nodes failed: the last attempt's votes tell which (they are in by the time we would retry).
        const delay = retryPauseMs(call.retryDelayMs, call.jitterMs);
        const pauseStart = Date.now();
        const verdict = await settleWithin(result.verdict, Math.max(delay, 1), undefined);
        unreachable = verdict && !verdict.locked ? unreachable + 1 : 0;
        const elapsed = Date.now() - started;
        const outOfBudget = attempts > call.retryCount || elapsed + delay > call.waitMs;
        if (verdict && !verdict.locked && (unreachable >= this.unreachableAttempts || outOfBudget)) {
          this.counters.unavailable++;
          throw new RedisUnavailableError(
            `Lock on ${list.join(', ')}: no quorum of Redis nodes reachable` +
              (verdict.firstError ? ` (${verdict.firstError.message})` : ''),
            { cause: verdict.firstError },
          );
        }
        if (outOfBudget) {
          this.counters.failed++;
          throw new LockNotAcquiredError(list, await this.retryAfter(keys[0], call.retryDelayMs), attempts);
        }
        const leftMs = delay - (Date.now() - pauseStart);
        if (leftMs > 0) await sleep(leftMs);
      }
    } finally {
      this.counters.waitMs += Date.now() - started;
    }
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
    let lease: LockLease;
    let tokens: number[] = [];
    if (this.single) {
      // One client, one atomic round trip: our own script (SET NX PX of every lock key and, with fencing on, the
      // INCR of their fence counters), or a plain SET NX PX for one unfenced key.
      const value = `${this.valuePrefix}:${(this.valueSeq++).toString(36)}`;
      const start = Date.now();
      let reply: number[] | number | string | null;
      try {
        if (keys.length > 1) {
          reply = await this.runSingle<number[] | null>(ACQUIRE_FENCED, fencing ? [...keys, ...fenceKeys] : keys, [
            value,
            ttlMs,
            fencing ? 1 : 0,
            this.options.fenceTtlMs,
            this.fenceRenewMs,
          ]);
        } else if (fencing) {
          reply = await this.runSingle<number | null>(
            ACQUIRE_ONE_FENCED,
            [keys[0], fenceKeys[0]],
            [value, ttlMs, this.options.fenceTtlMs, this.fenceRenewMs],
          );
        } else {
          reply = await this.commandSingle<string | null>('set', [keys[0], value, 'PX', ttlMs, 'NX']);
        }
      } catch (err) {
        if (!isRedisConnectionError(err)) throw err;
        return { verdict: Promise.resolve({ locked: false, firstError: err as Error }) };
      }
      if (reply === null) return { verdict: Promise.resolve({ locked: true }) };
      if (Array.isArray(reply)) tokens = reply;
      else if (typeof reply === 'number') tokens = [reply];
      lease = { resources: keys, value, expiration: start + ttlMs - this.driftMs(ttlMs) };
    } else {
      let lock: Lock;
      // Independent nodes: Redlock's quorum acquisition, then tokens from the shared client's counter.
      try {
        lock = await this.redlock.acquire(keys, ttlMs, { retryCount: 0 });
      } catch (err) {
        if (err instanceof ExecutionError) return { verdict: err.attempts[err.attempts.length - 1].then(statsError) };
        throw err;
      }
      if (fencing) {
        try {
          tokens = await FENCE_INCR.run<number[]>(this.fenceClient, fenceKeys, [
            this.options.fenceTtlMs,
            this.fenceRenewMs,
          ]);
        } catch (err) {
          await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
          throw toRedisUnavailable(err, `Could not draw the fencing token for ${resources.join(', ')}`);
        }
        // Tokens are valid only if drawn while we surely held the lock; otherwise count it as a failed attempt.
        if (lock.expiration <= Date.now()) {
          await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
          return { verdict: Promise.resolve({ locked: true }) };
        }
      }
      lease = lock;
    }
    for (let i = 0; i < tokens.length; i++) tokens[i] = Number(tokens[i]);
    const handle = new LockHandle(this, resources, lease, tokens);
    this.active.add(handle);
    if (this.closing) {
      await handle.release();
      throw new LockLostError(resources, 'the application is shutting down');
    }
    return handle;
  }

  /** Fails at once when fewer than a quorum of clients are connected (no command would be answered). */
  private checkReachable(resources: string[]): void {
    let live = 0;
    for (const client of this.clients) if (!DISCONNECTED.has(client.status)) live++;
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
