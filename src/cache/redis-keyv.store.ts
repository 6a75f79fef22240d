import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { DeserializedData, KeyvStoreAdapter, StoredData } from 'keyv';
import type { Redis } from 'ioredis';
import { checkCacheKey, checkCacheKeys } from './cache-key.validation';
import { CacheKeys } from './cache.keys';
import { CacheKeyspace } from './cache.keyspace';
import { CacheRedis, UNAVAILABLE, type OrUnavailable } from './cache-redis';
import { CacheCounters } from './cache.stats';
import { decodeCacheValue, encodeCacheValue, NOT_JSON, VERBATIM_MARK } from './cache-value.codec';

/** What Keyv hands to `set` when it has no serializer (our wiring): the value and its expiry. */
interface KeyvEnvelope {
  value: unknown;
  expires?: number;
}

function isEnvelope(data: unknown): data is KeyvEnvelope {
  return typeof data === 'object' && data !== null && 'value' in data && !Array.isArray(data);
}

const VERBATIM_CODE = VERBATIM_MARK.charCodeAt(0);

/** What `get` answers: a string as it was given, a plain value as `{ value }`, or undefined (absent, not ours). */
type StoreRead = string | DeserializedData<unknown> | undefined;

/**
 * Keyv store (keyv 5 `KeyvStoreAdapter`) on the shared RedisModule client, for every Keyv configuration:
 * - **Keyv's default serializer, or your own**: Keyv hands the store a string; it is stored as given (behind a `~`
 *   mark) and returned as given, so Keyv's own encoding (Buffers, expiry) round-trips unchanged;
 * - **no serializer** (our wiring, {@link createRedisKeyv}, behind CACHE_MANAGER): the value is stored once as plain
 *   JSON (`redis-cli GET <prefix>cache:<key>` shows it), a value holding Buffers in a form that gives them back as
 *   Buffers; a value JSON cannot carry (BigInt, circular, undefined) is refused with `CacheSerializationError`.
 *
 * Keys: `<prefix>cache:<key>` without a namespace, `<prefix>cache:ns:<namespace>:<key>` with one (Keyv sets
 * `namespace`, by default `keyv`), so namespaces never collide; `clear()` removes its own namespace only (without
 * one: the cache's keys, namespaced stores' keys excepted), with SCAN + UNLINK on every master. Keyv sets the
 * namespace of the store it is given: give each Keyv instance its own store ({@link clone}). TTLs in milliseconds
 * (`SET ... PX`), pipelined batch calls. Reads fail open (a miss after `readTimeoutMs`); writes are skipped while
 * Redis fails.
 */
@Injectable()
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads this; the store needs no options of its own. */
  opts: Record<string, unknown> = { dialect: 'redis' };
  private ns: string | undefined;
  /** `<prefix>cache:` or `<prefix>cache:ns:<namespace>:`: what every key of this store starts with. */
  private entryPrefix: string;

  constructor(
    private readonly redis: CacheRedis,
    private readonly keys: CacheKeys,
    private readonly counters: CacheCounters,
    private readonly keyspace: CacheKeyspace,
  ) {
    super();
    this.entryPrefix = keys.prefix;
  }

  /** The Keyv namespace of this store (set by Keyv); undefined for none. */
  get namespace(): string | undefined {
    return this.ns;
  }

  set namespace(namespace: string | undefined) {
    this.ns = namespace || undefined;
    this.entryPrefix = this.ns === undefined ? this.keys.prefix : this.keys.namespacePrefix(this.ns);
  }

  /** A new store on the same client and settings, without a namespace: one for each further Keyv instance. */
  clone(): RedisKeyvStore {
    return new RedisKeyvStore(this.redis, this.keys, this.counters, this.keyspace);
  }

  /**
   * The value of `key`: the string it was given (Keyv with a serializer), `{ value }` (no serializer; no expiry field:
   * Redis expires it), or undefined (absent, or Redis unavailable).
   */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      checkCacheKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    // Hot path: a single step over the GET (no async wrapper), see the benchmark.
    return this.redis.command(
      'get',
      [this.entryPrefix + key],
      this.redis.options.readTimeoutMs,
      this.decode as (raw: OrUnavailable<string | null>) => StoredData<Value> | undefined,
    );
  }

  /**
   * {@link get} with the entry's absolute expiry time (`expires`, ms since the epoch; absent without a TTL), as Keyv's
   * raw reads and cache-manager's `ttl()` / `wrap()` refresh want it: GET and PTTL in one round trip.
   */
  async getWithExpiry<Value>(key: string): Promise<StoredData<Value> | undefined> {
    checkCacheKey(key);
    const full = this.entryPrefix + key;
    const client = this.redis.client;
    const read = await this.redis.read(() => Promise.all([client.get(full), client.pttl(full)]));
    if (read === UNAVAILABLE) return undefined;
    const [raw, pttlMs] = read;
    const data = this.decode(raw);
    if (data === undefined || typeof data === 'string' || pttlMs === -2) return data as StoredData<Value> | undefined;
    return (pttlMs >= 0 ? { value: data.value, expires: Date.now() + pttlMs } : data) as StoredData<Value>;
  }

  /** Values of several keys in one round trip (MGET; concurrent GETs on Cluster, where keys span slots). */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    checkCacheKeys(keys);
    if (keys.length === 0) return [];
    const full = keys.map((k) => this.entryPrefix + k);
    const client = this.redis.client;
    const raws = await this.redis.read(() =>
      client.isCluster ? Promise.all(full.map((k) => client.get(k))) : (client as Redis).mget(full),
    );
    if (raws === UNAVAILABLE) return keys.map(() => undefined);
    return raws.map((raw) => this.decode(raw) as StoredData<Value | undefined>);
  }

  /**
   * Stores a value with a TTL in milliseconds (none: no expiry): a string as given, Keyv's `{ value }` as plain JSON.
   * Throws CacheSerializationError for a value without a JSON form; false when the write was skipped (Redis
   * unavailable).
   */
  set(key: string, data: unknown, ttlMs?: number): Promise<boolean> {
    let text: string;
    try {
      checkCacheKey(key);
      text = this.encode(key, data);
    } catch (err) {
      return Promise.reject(err);
    }
    const full = this.entryPrefix + key;
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

  /** Stores several values in one pipeline (concurrent SETs on Cluster); skipped while Redis is unavailable. */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const prepared = entries.map((e) => {
      checkCacheKey(e.key);
      const text = this.encode(e.key, e.value);
      return { key: this.entryPrefix + e.key, text, ttlMs: e.ttl && e.ttl > 0 ? Math.ceil(e.ttl) : undefined };
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
    const n = await this.keyspace.unlink([this.entryPrefix + key]);
    if (n === UNAVAILABLE) return false;
    this.counters.deletes++;
    return n > 0;
  }

  /** Deletes several keys in one UNLINK (per key on Cluster); true when every key existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    checkCacheKeys(keys);
    if (keys.length === 0) return true;
    const n = await this.keyspace.unlink(keys.map((k) => this.entryPrefix + k));
    if (n === UNAVAILABLE) return false;
    this.counters.deletes += keys.length;
    return n === keys.length;
  }

  /** True when `key` exists (false when Redis is unavailable). */
  async has(key: string): Promise<boolean> {
    checkCacheKey(key);
    const n = await this.redis.read(() => this.redis.client.exists(this.entryPrefix + key));
    return n !== UNAVAILABLE && n > 0;
  }

  /** For each key, whether it exists. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /**
   * Removes every key of this store's namespace with SCAN + UNLINK on every master, and nothing else. Without a
   * namespace: every key of the cache (`<prefix>cache:*`: entries, tag versions, loader locks) except the entries of
   * namespaced stores.
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async clear(): Promise<void> {
    await this.clearCount();
  }

  /** {@link clear}, returning how many keys were removed. @throws RedisUnavailableError */
  clearCount(): Promise<number> {
    return this.ns === undefined
      ? this.keyspace.clear(this.keys.prefix, this.keys.namespacesPrefix)
      : this.keyspace.clear(this.entryPrefix);
  }

  /** Nothing to close: the store uses the shared client, which RedisModule closes last. */
  async disconnect(): Promise<void> {}

  /** The stored text of what Keyv gave: a string as is (marked), else the value as JSON. */
  private encode(key: string, data: unknown): string {
    if (typeof data === 'string') return VERBATIM_MARK + data;
    return encodeCacheValue(key, isEnvelope(data) ? data.value : data);
  }

  /** A stored text as Keyv wants it; one function for every call (the hot path allocates no closure). */
  private readonly decode = (raw: OrUnavailable<string | null>): StoreRead => {
    if (raw === UNAVAILABLE || raw === null) return undefined;
    if (raw.charCodeAt(0) === VERBATIM_CODE) return raw.slice(1);
    const value = decodeCacheValue(raw);
    if (value !== NOT_JSON) return { value };
    this.counters.undecodable++; // written by something else under our prefix: a miss, reported as an error
    return undefined;
  };
}
