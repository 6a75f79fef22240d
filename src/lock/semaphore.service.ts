import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RedisService, RedisUnavailableError, isRedisConnectionError, type RedisClient } from '../redis';
import { LOCK_MODULE_OPTIONS } from './lock.constants';
import { LockNotAcquiredError, LockOptionsError } from './lock.errors';
import { checkDuration, checkResources, taggedResource } from './lock.keys';
import { retryPauseMs, sleep } from './lock.timing';
import { resolveLockOptions, type LockModuleOptions, type ResolvedLockOptions } from './lock.options';

/** Most permits one semaphore may have. */
export const MAX_SEMAPHORE_PERMITS = 100_000;

/** Lua prelude of the semaphore scripts: `now`, in milliseconds by Redis' own clock. */
const LUA_NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Takes a permit when fewer than `limit` unexpired ones are held. The semaphore is one sorted set
 * (member = permit id, score = expiry in ms of Redis' own clock, so client clocks do not matter); expired
 * permits (crashed holders) are dropped first. The key lives as long as its longest permit.
 * KEYS[1]: the set; ARGV: limit, ttlMs, permit id. Returns {1, expiresAtMs} or {0, ms until the next expiry}.
 */
const SEMAPHORE_ACQUIRE_LUA = `${LUA_NOW_MS}
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  return {1, now + ttl}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}`;

/**
 * Extends a permit that is still held (unexpired) to now + ttlMs. KEYS[1]: the set; ARGV: ttlMs, permit id.
 * Returns the new expiry (ms, Redis' clock), or 0 when the permit is gone.
 */
const SEMAPHORE_EXTEND_LUA = `${LUA_NOW_MS}
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then return 0 end
local ttl = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return now + ttl`;

/** Holders now: unexpired permits. KEYS[1]: the set. */
const SEMAPHORE_COUNT_LUA = `${LUA_NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

interface SemaphoreCommands {
  nrkSemAcquire(key: string, limit: number, ttlMs: number, id: string): Promise<[number, number]>;
  nrkSemExtend(key: string, ttlMs: number, id: string): Promise<number>; // new expiry, or 0
  nrkSemCount(key: string): Promise<number>;
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
    checkDuration('ttlMs', ttlMs, false);
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
  private client!: RedisClient & SemaphoreCommands;
  private prefix = '';
  private readonly idPrefix = randomBytes(12).toString('hex');
  private seq = 0;
  private readonly held = new Set<SemaphorePermit>();

  constructor(
    private readonly redis: RedisService,
    @Inject(LOCK_MODULE_OPTIONS) options: LockModuleOptions,
  ) {
    this.options = resolveLockOptions(options);
  }

  /** Startup: the semaphore scripts on the shared client. */
  onModuleInit(): void {
    this.prefix = `${this.redis.prefixFor('lock')}sem:`; // "sem:" is reserved among lock resources
    this.client = this.redis.getClient(this.options.client) as RedisClient & SemaphoreCommands;
    this.client.defineCommand('nrkSemAcquire', { numberOfKeys: 1, lua: SEMAPHORE_ACQUIRE_LUA });
    this.client.defineCommand('nrkSemExtend', { numberOfKeys: 1, lua: SEMAPHORE_EXTEND_LUA });
    this.client.defineCommand('nrkSemCount', { numberOfKeys: 1, lua: SEMAPHORE_COUNT_LUA });
  }

  /** Shutdown: gives back every permit still held (before RedisModule closes the client). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.held].map((p) => p.release()));
  }

  /** The Redis key of a semaphore: `<prefix>lock:sem:{<name>}` (one slot on a Cluster; a name's own `{tag}` is kept). */
  keyOf(name: string): string {
    return this.prefix + taggedResource(name);
  }

  /**
   * Takes a permit of `name`, waiting up to `waitMs` for one to be free.
   * @throws LockNotAcquiredError every permit stayed taken (`retryAfterMs`: until the next lease ends)
   * @throws RedisUnavailableError Redis could not be reached
   * @throws LockOptionsError bad name, limit or duration
   */
  async acquire(name: string, options: SemaphoreOptions): Promise<SemaphorePermit> {
    const { key, limit, ttlMs, waitMs } = this.check(name, options);
    const deadline = Date.now() + waitMs;
    const id = `${this.idPrefix}:${++this.seq}`;
    for (let attempt = 1; ; attempt++) {
      const [ok, value] = await this.call(`acquire a permit of semaphore "${name}"`, () =>
        this.client.nrkSemAcquire(key, limit, ttlMs, id),
      );
      if (ok === 1) {
        const permit = new SemaphorePermit(this, name, id, value);
        this.held.add(permit);
        return permit;
      }
      const pause = Math.max(1, retryPauseMs(this.options.retryDelayMs, this.options.jitterMs));
      if (Date.now() + pause > deadline) throw new LockNotAcquiredError([name], Math.max(1, value), attempt);
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
    return this.call(`count the permits of semaphore "${name}"`, () => this.client.nrkSemCount(this.keyOf(checked)));
  }

  /** @internal {@link SemaphorePermit.extend} */
  async extendPermit(permit: SemaphorePermit, ttlMs: number): Promise<boolean> {
    const expiresAtMs = await this.call(`extend a permit of semaphore "${permit.name}"`, () =>
      this.client.nrkSemExtend(this.keyOf(permit.name), ttlMs, permit.id),
    );
    if (expiresAtMs > 0) permit.expiresAtMs = expiresAtMs;
    return expiresAtMs > 0;
  }

  /** @internal {@link SemaphorePermit.release} */
  async releasePermit(permit: SemaphorePermit): Promise<boolean> {
    this.held.delete(permit);
    try {
      return (await this.client.zrem(this.keyOf(permit.name), permit.id)) === 1;
    } catch {
      return false; // the lease expires on its own
    }
  }

  /** Runs one script call; Redis unreachable (connection error, or the client not ready) → RedisUnavailableError. */
  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (isRedisConnectionError(err) || this.client.status !== 'ready') {
        throw new RedisUnavailableError(`Could not ${what}`, { cause: err });
      }
      throw err;
    }
  }

  private check(
    name: string,
    options: SemaphoreOptions,
  ): { key: string; limit: number; ttlMs: number; waitMs: number } {
    const [checked] = checkResources(name);
    const limit: unknown = options?.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEMAPHORE_PERMITS) {
      throw new LockOptionsError(
        'limit',
        `must be an integer from 1 to ${MAX_SEMAPHORE_PERMITS}, got ${String(limit)}`,
      );
    }
    checkDuration('ttlMs', options.ttlMs, false);
    checkDuration('waitMs', options.waitMs, true);
    return {
      key: this.keyOf(checked),
      limit,
      ttlMs: options.ttlMs ?? this.options.defaultTtlMs,
      waitMs: options.waitMs ?? this.options.defaultWaitMs,
    };
  }
}
