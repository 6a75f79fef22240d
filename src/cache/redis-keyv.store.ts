import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { Keyv, type KeyvStoreAdapter, type StoredData } from 'keyv';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../redis/redis.errors';
import { checkCacheKey, checkCacheKeys } from './cache-key.validation';
import { CacheKeys } from './cache.keys';
import { CacheRedis, UNAVAILABLE, type OrUnavailable } from './cache-redis';
import { CacheCounters } from './cache.stats';
import { decodeCacheValue, encodeCacheValue, NOT_JSON } from './cache-value.codec';

/** What Keyv hands to `set` when built by {@link createRedisKeyv} (no serializer): the value and its expiry. */
interface KeyvEnvelope {
  value: unknown;
  expires?: number;
}

function isEnvelope(data: unknown): data is KeyvEnvelope {
  return typeof data === 'object' && data !== null && 'value' in data && !Array.isArray(data);
}

/**
 * Keyv store (keyv 5 `KeyvStoreAdapter`) on the shared RedisModule client: plain JSON values (one
 * encoding: `redis-cli GET <prefix>cache:<key>` shows the value itself), TTLs in milliseconds (`SET ... PX`),
 * pipelined batch calls, and a `clear()` that removes only `<prefix>cache:*` (SCAN + UNLINK on every
 * master), never FLUSHDB or KEYS. Reads fail open (miss after `readTimeoutMs`); writes are skipped while
 * Redis fails. Use it through {@link createRedisKeyv}, which turns Keyv's own serializer and namespace off.
 */
@Injectable()
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads this; the store needs no options of its own. */
  opts: Record<string, unknown> = { dialect: 'redis' };
  /** Ignored: keys already live under `<prefix>cache:`. */
  namespace?: string;

  constructor(
    private readonly redis: CacheRedis,
    private readonly keys: CacheKeys,
    private readonly counters: CacheCounters,
  ) {
    super();
  }

  /** The value of `key` (`{ value }`, no expiry field: Redis expires it), or undefined (absent, or Redis unavailable). */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      checkCacheKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    // Hot path: a single step over the GET (no async wrapper), see the benchmark.
    return this.redis.command(
      'get',
      [this.keys.entry(key)],
      this.redis.options.readTimeoutMs,
      this.decode as (raw: OrUnavailable<string | null>) => StoredData<Value> | undefined,
    );
  }

  /** Values of several keys in one round trip (MGET; concurrent GETs on Cluster, where keys span slots). */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    checkCacheKeys(keys);
    if (keys.length === 0) return [];
    const full = keys.map((k) => this.keys.entry(k));
    const client = this.redis.client;
    const raws = await this.redis.read(() =>
      client.isCluster ? Promise.all(full.map((k) => client.get(k))) : (client as Redis).mget(full),
    );
    if (raws === UNAVAILABLE) return keys.map(() => undefined);
    return raws.map((raw) => this.decode(raw) as StoredData<Value | undefined>);
  }

  /**
   * Stores a value as JSON with a TTL in milliseconds (none: no expiry). Throws CacheSerializationError for a
   * value without a JSON form; returns false when the write was skipped because Redis is unavailable.
   */
  set(key: string, data: unknown, ttlMs?: number): Promise<boolean> {
    let text: string;
    try {
      checkCacheKey(key);
      text = encodeCacheValue(key, isEnvelope(data) ? data.value : data);
    } catch (err) {
      return Promise.reject(err);
    }
    const full = this.keys.entry(key);
    return this.redis.command(
      'set',
      ttlMs && ttlMs > 0 ? [full, text, 'PX', Math.ceil(ttlMs)] : [full, text],
      this.redis.options.writeTimeoutMs,
      this.onSetReply,
    );
  }

  /** Maps a SET reply: false when the write was skipped (Redis unavailable), else counts it. One function for every call. */
  private readonly onSetReply = (ok: OrUnavailable<string>): boolean => {
    if (ok === UNAVAILABLE) return false;
    this.counters.sets++;
    return true;
  };

  /** Stores several values in one pipeline (concurrent SETs on Cluster). */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const prepared = entries.map((e) => {
      checkCacheKey(e.key);
      const text = encodeCacheValue(e.key, isEnvelope(e.value) ? e.value.value : e.value);
      return { key: this.keys.entry(e.key), text, ttlMs: e.ttl && e.ttl > 0 ? Math.ceil(e.ttl) : undefined };
    });
    if (prepared.length === 0) return;
    const client = this.redis.client;
    const ok = await this.redis.write(async () => {
      if (client.isCluster) {
        await Promise.all(
          prepared.map((p) => (p.ttlMs ? client.set(p.key, p.text, 'PX', p.ttlMs) : client.set(p.key, p.text))),
        );
        return;
      }
      const pipe = client.pipeline();
      for (const p of prepared) {
        if (p.ttlMs) pipe.set(p.key, p.text, 'PX', p.ttlMs);
        else pipe.set(p.key, p.text);
      }
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    });
    if (ok !== UNAVAILABLE) this.counters.sets += prepared.length;
  }

  /** Deletes one key (UNLINK); true when it existed. */
  async delete(key: string): Promise<boolean> {
    checkCacheKey(key);
    const n = await this.unlink([key]);
    if (n === UNAVAILABLE) return false;
    this.counters.deletes++;
    return n > 0;
  }

  /** Deletes several keys in one UNLINK (per key on Cluster); true when every key existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    checkCacheKeys(keys);
    if (keys.length === 0) return true;
    const n = await this.unlink(keys);
    if (n === UNAVAILABLE) return false;
    this.counters.deletes += keys.length;
    return n === keys.length;
  }

  /**
   * Removes the entries of checked keys: one UNLINK, or one per key on Cluster (keys span slots). Skipped while Redis
   * fails.
   * @returns how many existed, or UNAVAILABLE
   */
  unlink(keys: readonly string[]): Promise<OrUnavailable<number>> {
    const full = keys.map((k) => this.keys.entry(k));
    const client = this.redis.client;
    return this.redis.write(async () =>
      client.isCluster
        ? (await Promise.all(full.map((k) => client.unlink(k)))).reduce((a, b) => a + b, 0)
        : (client as Redis).unlink(...full),
    );
  }

  /** True when `key` exists. */
  async has(key: string): Promise<boolean> {
    checkCacheKey(key);
    const n = await this.redis.read(() => this.redis.client.exists(this.keys.entry(key)));
    return n !== UNAVAILABLE && n > 0;
  }

  /** For each key, whether it exists. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /**
   * Removes every key of the cache (`<prefix>cache:*`: entries, tag versions, loader locks) with SCAN +
   * UNLINK on every master, and nothing else.
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async clear(): Promise<void> {
    await this.clearCount();
  }

  /** {@link clear}, returning how many keys were removed. @throws RedisUnavailableError */
  async clearCount(): Promise<number> {
    const client = this.redis.client;
    const nodes: Redis[] = client.isCluster
      ? (client as unknown as { nodes(role: 'master'): Redis[] }).nodes('master')
      : [client as Redis];
    const match = this.keys.everyKeyPattern;
    let removed = 0;
    try {
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) {
            // One UNLINK per key: on a Cluster node, keys of one SCAN page span many slots.
            const pipe = node.pipeline();
            for (const k of keys) pipe.unlink(k);
            const results = (await pipe.exec()) ?? [];
            removed += results.reduce((sum, [err, n]) => sum + (err ? 0 : Number(n)), 0);
          }
        } while (cursor !== '0');
      }
    } catch (err) {
      throw new RedisUnavailableError(
        `Could not clear the cache: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
    return removed;
  }

  /** Nothing to close: the store uses the shared client, which RedisModule closes last. */
  async disconnect(): Promise<void> {}

  /** A stored value as Keyv wants it; one function for every call (the hot path allocates no closure). */
  private readonly decode = (raw: OrUnavailable<string | null>): StoredData<unknown> | undefined => {
    if (raw === UNAVAILABLE || raw === null) return undefined;
    const value = decodeCacheValue(raw);
    if (value !== NOT_JSON) return { value };
    this.counters.undecodable++; // written by something else under our prefix: a miss, reported as an error
    return undefined;
  };
}

/**
 * The Keyv instance given to @nestjs/cache-manager: our store, with Keyv's serializer and namespace off so
 * that each value is stored once-encoded as plain JSON under `<prefix>cache:<key>`. Bad input (empty key,
 * a value without a JSON form) throws instead of being swallowed.
 * @param defaultTtlMs TTL of `set` calls that give none
 */
export function createRedisKeyv(store: RedisKeyvStore, defaultTtlMs: number): Keyv {
  const keyv = new Keyv({
    store,
    ttl: defaultTtlMs,
    namespace: undefined,
    useKeyPrefix: false,
    serialize: undefined,
    deserialize: undefined,
    throwOnErrors: true,
  });
  keyv.on('error', () => undefined);
  return keyv;
}
