import { Inject, Injectable, Logger } from '@nestjs/common';
import { Command, type Cluster, type Redis } from 'ioredis';
import { RedisService } from '../redis/redis.service';
import { CACHE_MODULE_OPTIONS, RESERVED_KEY_PARTS } from './cache.constants';
import { CacheKeyError, CacheSerializationError } from './cache.errors';
import type { ResolvedCacheOptions } from './cache.options';
import { emptyStats, type CacheStats } from './cache.stats';

/** Returned by {@link CacheRuntime.read} / {@link CacheRuntime.write} when Redis was not used or did not answer. */
export const UNAVAILABLE: unique symbol = Symbol('nest-redis-kit:cache:unavailable');

/** Period of the timeout sweeper, in milliseconds. */
const SWEEP_MS = 10;

/** A wrapped operation of run() waiting for its answer. */
interface PendingOp {
  deadline: number;
  timeoutMs: number;
  /** Settles the operation with {@link UNAVAILABLE} when it is late. */
  settle: ((value: typeof UNAVAILABLE) => void) | undefined;
}

/** Compact the command queue once this many settled entries sit before its head. */
const QUEUE_COMPACT_AT = 1024;

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 1024;

/** ioredis client with the cache's Lua commands (defined once on the shared client by `defineCommand`). */
export interface CacheCommands {
  /** Creates the tag version key when missing (value from Redis TIME, µs) and extends its TTL; returns the version. */
  nrkCacheTouchTag(tagKey: string, ttlMs: number): Promise<string>;
  /** Increments an existing tag version (0 when the tag has no key: nothing carries it). */
  nrkCacheBumpTag(tagKey: string): Promise<number>;
  /** Deletes a lock key only when it still holds our token. */
  nrkCacheReleaseLock(lockKey: string, token: string): Promise<number>;
}

/** The shared client as the cache sees it. */
export type CacheClient = (Redis | Cluster) & CacheCommands;

const SCRIPTS: Record<keyof CacheCommands, { numberOfKeys: number; lua: string }> = {
  nrkCacheTouchTag: {
    numberOfKeys: 1,
    lua: `
local v = redis.call('GET', KEYS[1])
local ttl = tonumber(ARGV[1])
if not v then
  local t = redis.call('TIME')
  v = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[1], v, 'PX', ttl)
  return v
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl >= 0 and pttl < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return v`,
  },
  nrkCacheBumpTag: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end return 0`,
  },
  nrkCacheReleaseLock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  },
};

/**
 * What the store and CacheService share: the client, the key layout, the counters and the fail-open
 * policy (timeouts, one log line per outage, probing while Redis fails). Internal.
 */
@Injectable()
export class CacheRuntime {
  /** Counters (see {@link CacheStats}). */
  readonly counters: CacheStats = emptyStats();
  /** `<prefix>cache:`. */
  readonly prefix: string;
  /** The shared client with the cache's Lua commands. */
  readonly client: CacheClient;
  private readonly logger = new Logger('Cache');
  private failingSince: number | undefined;
  private lastProbe = 0;
  private readonly pending = new Set<PendingOp>();
  /**
   * Hot-path commands in the order they were sent, with their deadlines (parallel arrays, entries before
   * `queueHead` are dropped). A push per command instead of a Set entry + record: the bookkeeping cost 13% of
   * a SET's client CPU with a Set (see bench/cache.bench.ts). Settled entries are skipped by the sweeper.
   */
  private queue: Array<Command | undefined> = [];
  private queueDeadlines: number[] = [];
  private queueTimeouts: number[] = [];
  private queueHead = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) readonly options: ResolvedCacheOptions,
    readonly redis: RedisService,
  ) {
    this.prefix = redis.prefixFor('cache');
    const client = redis.getClient(options.clientName) as CacheClient;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') {
        client.defineCommand(name, script);
      }
    }
    this.client = client;
  }

  /** The Redis key of a cache entry: `<prefix>cache:<key>`. */
  entryKey(key: string): string {
    return this.prefix + key;
  }

  /** The Redis key of the cross-process loader lock of `key`. */
  lockKey(key: string): string {
    return `${this.prefix}lock:${key}`;
  }

  /** The Redis key of a tag's version counter: `<prefix>cache:tag:{<tag>}`. */
  tagKey(tag: string): string {
    return `${this.prefix}tag:{${tag}}`;
  }

  /** Throws {@link CacheKeyError} unless `key` is a usable cache key. */
  checkKey(key: unknown): asserts key is string {
    if (typeof key !== 'string') throw new CacheKeyError(key, 'must be a string');
    if (key.length === 0) throw new CacheKeyError(key, 'must not be empty');
    if (key.length > MAX_KEY_LENGTH) throw new CacheKeyError(key, `must be at most ${MAX_KEY_LENGTH} characters`);
    for (const reserved of RESERVED_KEY_PARTS) {
      if (key.startsWith(reserved)) throw new CacheKeyError(key, `keys starting with "${reserved}" are reserved`);
    }
  }

  /** Throws {@link CacheKeyError} unless `tag` is a usable tag (non-empty, no braces, at most 256 characters). */
  checkTag(tag: unknown): asserts tag is string {
    if (typeof tag !== 'string' || tag.length === 0) throw new CacheKeyError(tag, 'a tag must be a non-empty string');
    if (tag.length > 256) throw new CacheKeyError(tag, 'a tag must be at most 256 characters');
    if (/[{}]/.test(tag)) throw new CacheKeyError(tag, 'a tag must not contain braces');
  }

  /** JSON text of a value, or {@link CacheSerializationError} (BigInt, circular, undefined, function...). */
  encode(key: string, value: unknown): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new CacheSerializationError(key, err instanceof Error ? err.message : String(err), { cause: err });
    }
    if (text === undefined) throw new CacheSerializationError(key, `a value of type ${typeof value} has no JSON form`);
    return text;
  }

  /** True while Redis is considered failing (between the first error and the next success). */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /**
   * Hot path: one single-key command (`get`, `set`, `unlink`...) bounded by `timeoutMs`, without a wrapper
   * promise: the sweeper rejects the ioredis Command itself when it is late. Resolves to {@link UNAVAILABLE}
   * (never throws) when Redis is down, slow or failing.
   */
  command<T>(name: string, args: Array<string | number>, timeoutMs: number): Promise<T | typeof UNAVAILABLE>;
  /** {@link command}, mapping the reply (or {@link UNAVAILABLE}) in the same step. */
  command<T, R>(
    name: string,
    args: Array<string | number>,
    timeoutMs: number,
    map: (reply: T | typeof UNAVAILABLE) => R,
  ): Promise<R>;
  command<T, R>(
    name: string,
    args: Array<string | number>,
    timeoutMs: number,
    map?: (reply: T | typeof UNAVAILABLE) => R,
  ): Promise<T | R | typeof UNAVAILABLE> {
    if (this.client.status !== 'ready' || this.failingSince !== undefined) {
      if (!this.usable()) {
        this.counters.skipped++;
        return Promise.resolve(map ? map(UNAVAILABLE) : UNAVAILABLE);
      }
    }
    const cmd = new Command(name, args, { replyEncoding: 'utf8' });
    this.trackCommand(cmd, timeoutMs);
    void this.client.sendCommand(cmd);
    if (!map) return cmd.promise.then(this.onCommandOk, this.onCommandError) as Promise<T | typeof UNAVAILABLE>;
    return cmd.promise.then(
      (value: T) => map(this.onCommandOk(value)),
      (err: unknown) => map(this.onCommandError(err)),
    );
  }

  private readonly onCommandOk = <T>(value: T): T => {
    if (this.failingSince !== undefined) this.succeeded();
    return value;
  };

  private readonly onCommandError = (err: unknown): typeof UNAVAILABLE => {
    this.failed(err);
    return UNAVAILABLE;
  };

  private trackCommand(cmd: Command, timeoutMs: number): void {
    this.queue.push(cmd);
    this.queueDeadlines.push(Date.now() + timeoutMs);
    this.queueTimeouts.push(timeoutMs);
    if (!this.sweeper) this.startSweeper();
  }

  /**
   * Runs a Redis read bounded by `readTimeoutMs`. Resolves to {@link UNAVAILABLE} (never throws for a
   * connection problem) when Redis is down, slow or failing: the caller falls through to its source.
   */
  read<T>(op: () => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    return this.run(op, this.options.readTimeoutMs);
  }

  /** Runs a Redis write bounded by `writeTimeoutMs`; {@link UNAVAILABLE} when skipped or failed. */
  write<T>(op: () => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    return this.run(op, this.options.writeTimeoutMs);
  }

  private run<T>(op: () => Promise<T>, timeoutMs: number): Promise<T | typeof UNAVAILABLE> {
    if (this.client.status !== 'ready' || this.failingSince !== undefined) {
      if (!this.usable()) {
        this.counters.skipped++;
        return Promise.resolve(UNAVAILABLE);
      }
    }
    const started = op(); // may throw synchronously (bad input): the caller's async function turns it into a rejection
    const pending: PendingOp = {
      deadline: Date.now() + timeoutMs,
      timeoutMs,
      settle: undefined,
    };
    this.track(pending);
    return new Promise<T | typeof UNAVAILABLE>((resolve, reject) => {
      pending.settle = resolve as (v: typeof UNAVAILABLE) => void;
      started.then(
        (value) => {
          if (!this.pending.delete(pending)) return; // already given up
          if (this.failingSince !== undefined) this.succeeded();
          resolve(value);
        },
        (err: unknown) => {
          if (!this.pending.delete(pending)) return;
          if (err instanceof CacheKeyError || err instanceof CacheSerializationError) {
            reject(err);
            return;
          }
          this.failed(err);
          resolve(UNAVAILABLE);
        },
      );
    });
  }

  /** Gives up a pending operation (called by the sweeper): a miss / skipped write, counted as an error. */
  private expire(p: PendingOp): void {
    this.failed(new Error(`no answer within ${p.timeoutMs} ms`));
    p.settle?.(UNAVAILABLE);
  }

  /**
   * One sweeper timer for every pending operation (instead of a timer per command): cheaper on the hot path;
   * an operation is given up at most {@link SWEEP_MS} after its deadline.
   */
  private track(op: PendingOp): void {
    this.pending.add(op);
    if (!this.sweeper) this.startSweeper();
  }

  private startSweeper(): void {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now();
    const lateOps: PendingOp[] = [];
    for (const p of this.pending) if (p.deadline <= now) lateOps.push(p);
    const lateCommands: Array<{ cmd: Command; timeoutMs: number }> = [];
    const q = this.queue;
    let head = this.queueHead;
    while (head < q.length) {
      const cmd = q[head];
      if (cmd !== undefined && !cmd.isSettled) break;
      q[head++] = undefined;
    }
    for (let i = head; i < q.length; i++) {
      const cmd = q[i];
      if (cmd === undefined || cmd.isSettled) continue;
      if (this.queueDeadlines[i] <= now) {
        lateCommands.push({ cmd, timeoutMs: this.queueTimeouts[i] });
        q[i] = undefined;
      }
    }
    if (head === q.length) {
      q.length = 0;
      this.queueDeadlines.length = 0;
      this.queueTimeouts.length = 0;
      head = 0;
    } else if (head >= QUEUE_COMPACT_AT) {
      q.splice(0, head);
      this.queueDeadlines.splice(0, head);
      this.queueTimeouts.splice(0, head);
      head = 0;
    }
    this.queueHead = head;
    if (lateOps.length > 0 || lateCommands.length > 0) {
      // Decide after the I/O phase: when the event loop itself was late, answers already received are
      // processed first, so a busy process does not mistake its own lag for a slow Redis.
      setImmediate(() => {
        for (const p of lateOps) if (this.pending.delete(p)) this.expire(p);
        for (const { cmd, timeoutMs } of lateCommands) {
          if (!cmd.isSettled) cmd.reject(new Error(`no answer within ${timeoutMs} ms`));
        }
      });
    }
    if (this.pending.size === 0 && q.length === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Whether to try Redis now: not while the client is disconnected; while failing, one probe per interval. */
  private usable(): boolean {
    if (this.client.status !== 'ready') {
      if (!this.failing) this.failed(new Error(`connection is ${this.client.status}`));
      return false;
    }
    if (!this.failing) return true;
    const now = Date.now();
    if (now - this.lastProbe < this.options.probeIntervalMs) return false;
    this.lastProbe = now;
    return true;
  }

  private failed(err: unknown): void {
    this.counters.errors++;
    if (this.failingSince !== undefined) return;
    this.failingSince = Date.now();
    this.lastProbe = this.failingSince;
    this.counters.outages++;
    this.logger.warn(
      `Redis unavailable for the cache (${err instanceof Error ? err.message : String(err)}): ` +
        'reads fall through to the source, writes are skipped until it recovers',
    );
  }

  private succeeded(): void {
    if (this.failingSince === undefined) return;
    this.logger.log(`Redis is back for the cache after ${Date.now() - this.failingSince} ms`);
    this.failingSince = undefined;
  }
}
