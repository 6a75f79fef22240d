import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { sleep } from '../core';
import { traced } from '../core/tracing';
import { RedisService, RedisUnavailableError, toRedisUnavailable, type RedisClient } from '../redis';
import { LockCommands } from './lock.commands';
import { LOCK_MODULE_OPTIONS } from './lock.constants';
import { LockNotAcquiredError } from './lock.errors';
import { LockKeys, checkResources } from './lock.keys';
import { lockArguments, resolveLockOptions, type LockModuleOptions, type ResolvedLockOptions } from './lock.options';
import { SEMAPHORE_ACQUIRE, SEMAPHORE_COUNT, SEMAPHORE_EXTEND } from './lock.scripts';
import { retryPauseMs } from './lock.timing';

/** Most permits one semaphore may have. */
export const MAX_SEMAPHORE_PERMITS = 100_000;

/** Counters of one SemaphoreService since startup, for a metrics module. */
export interface SemaphoreStats {
  /** Permits taken. */
  acquired: number;
  /** Acquisitions given up because every permit stayed taken (LockNotAcquiredError). */
  refused: number;
  /** Calls that failed because Redis could not be reached (RedisUnavailableError). */
  unavailable: number;
  /** Permits given back while still held (an expired one is not counted). */
  released: number;
}

/** Options of {@link SemaphoreService.acquire} and {@link SemaphoreService.using}. Durations in milliseconds. */
export interface SemaphoreOptions {
  /** How many holders at once (positive integer, at most {@link MAX_SEMAPHORE_PERMITS}). */
  limit: number;
  /** Lease of the permit: a holder that crashed frees its place after this (default: LockModule's defaultTtlMs). */
  ttlMs?: number;
  /** How long to wait for a free permit before LockNotAcquiredError (default: LockModule's defaultWaitMs; 0 = one try). */
  waitMs?: number;
}

/** A permit held on a semaphore: extend it while working, release it when done. */
export class SemaphorePermit {
  private released = false;

  /** @internal created by {@link SemaphoreService.acquire} */
  constructor(
    private readonly owner: SemaphoreService,
    /** The semaphore's name. */
    readonly name: string,
    /** This permit's id (unique per acquisition). */
    readonly id: string,
    /** When the lease ends (ms since the epoch, by Redis' clock), unless extended. */
    public expiresAtMs: number,
  ) {}

  /** Extends the lease to now + `ttlMs`; false when the permit had already expired (its place may be taken). */
  async extend(ttlMs: number): Promise<boolean> {
    if (lockArguments.durationMs('ttlMs', ttlMs, { min: 1 }) === undefined) lockArguments.fail('ttlMs', 'is required');
    if (this.released) return false;
    return this.owner.extendPermit(this, ttlMs);
  }

  /** Gives the permit back; true when it was still held. Never throws (an unreachable Redis lets the lease expire). */
  async release(): Promise<boolean> {
    if (this.released) return false;
    this.released = true;
    return this.owner.releasePermit(this);
  }
}

/**
 * A counting semaphore on the shared Redis client: at most `limit` holders of a name at once, across every process
 * (N concurrent calls to a rate-limited partner, N exports at a time). Leases expire, so a crashed holder frees its
 * place after `ttlMs`; waiting polls like LockService (LockModule's retryDelayMs ± jitterMs). On a Cluster the
 * semaphore is one key (one slot). Not a Redlock quorum: it lives on one Redis (primary), like a lock on the shared
 * client. Errors: {@link LockNotAcquiredError} (all permits taken; HTTP 423), RedisUnavailableError,
 * {@link LockOptionsError}.
 */
@Injectable()
export class SemaphoreService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly options: ResolvedLockOptions;
  private client!: RedisClient;
  /** The commands on {@link client}: swept (no timer per command) and batched with the tick's other writes. */
  private commands!: LockCommands;
  private keys = new LockKeys('');
  private readonly idPrefix = randomBytes(12).toString('hex');
  private seq = 0;
  private readonly held = new Set<SemaphorePermit>();
  private readonly counters: SemaphoreStats = { acquired: 0, refused: 0, unavailable: 0, released: 0 };

  constructor(
    private readonly redis: RedisService,
    @Inject(LOCK_MODULE_OPTIONS) options: LockModuleOptions,
  ) {
    this.options = resolveLockOptions(options);
  }

  /** Counters since startup (a copy): acquired, refused, unavailable, released. */
  get stats(): SemaphoreStats {
    return { ...this.counters };
  }

  /** Startup: the client and the key prefix. */
  onModuleInit(): void {
    this.keys = new LockKeys(this.redis.prefixFor('lock'));
    this.client = this.redis.getClient(this.options.clientName);
    this.commands = new LockCommands(this.client);
  }

  /** Shutdown: gives back every permit still held (before RedisModule closes the client). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.held].map((p) => p.release()));
  }

  /** The Redis key of a semaphore: `<prefix>lock:sem:{<name>}` (one slot on a Cluster; a name's own `{tag}` is kept). */
  keyOf(name: string): string {
    return this.keys.semaphore(name);
  }

  /**
   * Takes a permit of `name`, waiting up to `waitMs` for one to be free.
   * @throws LockNotAcquiredError every permit stayed taken (`retryAfterMs`: until the next lease ends)
   * @throws RedisUnavailableError Redis could not be reached
   * @throws LockOptionsError bad name, limit or duration
   */
  acquire(name: string, options: SemaphoreOptions): Promise<SemaphorePermit> {
    // Tracing on: a span `semaphore acquire` with the wait.
    const attributes = { 'nrk.semaphore.name': name, 'nrk.semaphore.limit': options?.limit };
    return traced('semaphore acquire', { attributes }, (span) => {
      const startedMs = Date.now();
      const acquired = this.acquireUntraced(name, options);
      if (!span) return acquired;
      return acquired.then((permit) => {
        span.setAttribute('nrk.semaphore.wait_ms', Date.now() - startedMs);
        return permit;
      });
    });
  }

  /** {@link acquire} without its span. */
  private async acquireUntraced(name: string, options: SemaphoreOptions): Promise<SemaphorePermit> {
    const { key, limit, ttlMs, waitMs } = this.check(name, options);
    const deadline = Date.now() + waitMs;
    const id = `${this.idPrefix}:${++this.seq}`;
    for (let attempt = 1; ; attempt++) {
      // The lease end (> 0) when taken, else minus the wait until the next lease ends.
      const reply = await this.call('acquire a permit of', name, () =>
        this.commands.script<number>(SEMAPHORE_ACQUIRE, [key], [limit, ttlMs, id]),
      );
      if (reply > 0) {
        const permit = new SemaphorePermit(this, name, id, reply);
        this.held.add(permit);
        this.counters.acquired++;
        return permit;
      }
      const pause = Math.max(1, retryPauseMs(this.options.retryDelayMs, this.options.jitterMs));
      if (Date.now() + pause > deadline) {
        this.counters.refused++;
        throw new LockNotAcquiredError([name], Math.max(1, -reply), attempt);
      }
      await sleep(pause);
    }
  }

  /** Runs `work` holding a permit of `name`, and gives the permit back however `work` ends. */
  async using<T>(name: string, options: SemaphoreOptions, work: (permit: SemaphorePermit) => Promise<T>): Promise<T> {
    const permit = await this.acquire(name, options);
    try {
      return await work(permit);
    } finally {
      await permit.release();
    }
  }

  /** How many permits of `name` are held now (unexpired). */
  async count(name: string): Promise<number> {
    const [checked] = checkResources(name);
    return this.call('count the permits of', name, () =>
      this.commands.script<number>(SEMAPHORE_COUNT, [this.keyOf(checked)], []),
    );
  }

  /** @internal {@link SemaphorePermit.extend} */
  async extendPermit(permit: SemaphorePermit, ttlMs: number): Promise<boolean> {
    const expiresAtMs = await this.call('extend a permit of', permit.name, () =>
      this.commands.script<number>(SEMAPHORE_EXTEND, [this.keyOf(permit.name)], [ttlMs, permit.id]),
    );
    if (expiresAtMs > 0) permit.expiresAtMs = expiresAtMs;
    return expiresAtMs > 0;
  }

  /** @internal {@link SemaphorePermit.release} */
  async releasePermit(permit: SemaphorePermit): Promise<boolean> {
    this.held.delete(permit);
    try {
      const released = (await this.commands.command<number>('zrem', [this.keyOf(permit.name), permit.id])) === 1;
      if (released) this.counters.released++;
      return released;
    } catch {
      return false; // the lease expires on its own
    }
  }

  /**
   * Runs one script call on semaphore `name` (`verb`, e.g. `acquire a permit of`, names it in errors). Redis
   * unreachable (a connection error, or the client not connected) → RedisUnavailableError; other errors pass
   * unchanged.
   */
  private async call<T>(verb: string, name: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      const what = `${verb} semaphore "${name}"`;
      const status = this.client.status;
      const mapped =
        status === 'ready' || err instanceof RedisUnavailableError
          ? toRedisUnavailable(err, `Could not ${what}`)
          : new RedisUnavailableError(`Could not ${what}: the connection is ${status}`, { cause: err });
      if (mapped instanceof RedisUnavailableError) this.counters.unavailable++;
      throw mapped;
    }
  }

  private check(
    name: string,
    options: SemaphoreOptions,
  ): { key: string; limit: number; ttlMs: number; waitMs: number } {
    const [checked] = checkResources(name);
    const o = (lockArguments.object('options', options) ?? {}) as Partial<SemaphoreOptions>;
    const limit =
      lockArguments.positiveInt('limit', o.limit, { max: MAX_SEMAPHORE_PERMITS }) ??
      lockArguments.fail('limit', `is required: an integer from 1 to ${MAX_SEMAPHORE_PERMITS}`);
    return {
      key: this.keyOf(checked),
      limit,
      ttlMs: lockArguments.durationMs('ttlMs', o.ttlMs, { min: 1 }) ?? this.options.defaultTtlMs,
      waitMs: lockArguments.durationMs('waitMs', o.waitMs) ?? this.options.defaultWaitMs,
    };
  }
}
