import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { Keyv, type KeyvStoreAdapter, type StoredData } from 'keyv';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../redis/redis.errors';
import { CacheRuntime, UNAVAILABLE } from './cache.runtime';

/** What Keyv hands to `set` when built by {@link createRedisKeyv} (no serializer): the value and its expiry. */
interface KeyvEnvelope {
  value: unknown;
  expires?: number;
}

function isEnvelope(data: unknown): data is KeyvEnvelope {
  return typeof data === 'object' && data !== null && 'value' in data && !Array.isArray(data);
}

/** Escapes glob characters so that a key prefix is matched literally by SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
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

  constructor(private readonly rt: CacheRuntime) {
    super();
  }

  /** The value of `key` (`{ value }`, no expiry field: Redis expires it), or undefined (absent, or Redis unavailable). */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      this.rt.checkKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    // Hot path: a single step over the GET (no async wrapper), see the benchmark.
    return this.rt.command(
      'get',
      [this.rt.entryKey(key)],
      this.rt.options.readTimeoutMs,
      (raw: string | null | typeof UNAVAILABLE) => this.decode<Value>(key, raw),
    );
  }

  /** Values of several keys in one round trip (MGET; concurrent GETs on Cluster, where keys span slots). */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    keys.forEach((k) => this.rt.checkKey(k));
    if (keys.length === 0) return [];
    const full = keys.map((k) => this.rt.entryKey(k));
    const raws = await this.rt.read(() =>
      this.rt.client.isCluster
        ? Promise.all(full.map((k) => this.rt.client.get(k)))
        : (this.rt.client as Redis).mget(full),
    );
    if (raws === UNAVAILABLE) return keys.map(() => undefined);
    return raws.map((raw, i) => this.decode<Value>(keys[i], raw));
  }

  /**
   * Stores a value as JSON with a TTL in milliseconds (none: no expiry). Throws CacheSerializationError for a
   * value without a JSON form; returns false when the write was skipped because Redis is unavailable.
   */
  set(key: string, data: unknown, ttlMs?: number): Promise<boolean> {
    let text: string;
    try {
      this.rt.checkKey(key);
      text = this.rt.encode(key, isEnvelope(data) ? data.value : data);
    } catch (err) {
      return Promise.reject(err);
    }
    const full = this.rt.entryKey(key);
    return this.rt.command(
      'set',
      ttlMs && ttlMs > 0 ? [full, text, 'PX', Math.ceil(ttlMs)] : [full, text],
      this.rt.options.writeTimeoutMs,
      this.onSetReply,
    );
  }

  /** Maps a SET reply: false when the write was skipped (Redis unavailable), else counts it. One function for every call. */
  private readonly onSetReply = (ok: string | typeof UNAVAILABLE): boolean => {
    if (ok === UNAVAILABLE) return false;
    this.rt.counters.sets++;
    return true;
  };

  /** Stores several values in one pipeline (concurrent SETs on Cluster). */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const prepared = entries.map((e) => {
      this.rt.checkKey(e.key);
      const text = this.rt.encode(e.key, isEnvelope(e.value) ? e.value.value : e.value);
      return { key: this.rt.entryKey(e.key), text, ttlMs: e.ttl && e.ttl > 0 ? Math.ceil(e.ttl) : undefined };
    });
    if (prepared.length === 0) return;
    const c = this.rt.client;
    const ok = await this.rt.write(async () => {
      if (c.isCluster) {
        await Promise.all(prepared.map((p) => (p.ttlMs ? c.set(p.key, p.text, 'PX', p.ttlMs) : c.set(p.key, p.text))));
        return;
      }
      const pipe = c.pipeline();
      for (const p of prepared) {
        if (p.ttlMs) pipe.set(p.key, p.text, 'PX', p.ttlMs);
        else pipe.set(p.key, p.text);
      }
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    });
    if (ok !== UNAVAILABLE) this.rt.counters.sets += prepared.length;
  }

  /** Deletes one key (UNLINK); true when it existed. */
  async delete(key: string): Promise<boolean> {
    this.rt.checkKey(key);
    const n = await this.rt.write(() => this.rt.client.unlink(this.rt.entryKey(key)));
    if (n === UNAVAILABLE) return false;
    this.rt.counters.deletes++;
    return n > 0;
  }

  /** Deletes several keys in one UNLINK (per key on Cluster); true when every key existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    keys.forEach((k) => this.rt.checkKey(k));
    if (keys.length === 0) return true;
    const full = keys.map((k) => this.rt.entryKey(k));
    const c = this.rt.client;
    const n = await this.rt.write(async () =>
      c.isCluster
        ? (await Promise.all(full.map((k) => c.unlink(k)))).reduce((a, b) => a + b, 0)
        : (c as Redis).unlink(...full),
    );
    if (n === UNAVAILABLE) return false;
    this.rt.counters.deletes += keys.length;
    return n === keys.length;
  }

  /** True when `key` exists. */
  async has(key: string): Promise<boolean> {
    this.rt.checkKey(key);
    const n = await this.rt.read(() => this.rt.client.exists(this.rt.entryKey(key)));
    return n !== UNAVAILABLE && n > 0;
  }

  /** For each key, whether it exists. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /**
   * Removes every key of the cache (`<prefix>cache:*`: entries, tag versions, loader locks) with SCAN +
   * UNLINK on every master, and nothing else. Throws RedisUnavailableError when Redis cannot be reached.
   * @returns the number of keys removed
   */
  async clear(): Promise<void> {
    await this.clearCount();
  }

  /** {@link clear}, returning how many keys were removed. */
  async clearCount(): Promise<number> {
    const c = this.rt.client;
    const nodes: Redis[] = c.isCluster
      ? (c as unknown as { nodes(role: 'master'): Redis[] }).nodes('master')
      : [c as Redis];
    const match = `${escapeGlob(this.rt.prefix)}*`;
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

  private decode<Value>(key: string, raw: string | null | typeof UNAVAILABLE): StoredData<Value> | undefined {
    if (raw === UNAVAILABLE || raw === null) return undefined;
    try {
      return { value: JSON.parse(raw) as Value };
    } catch {
      // Not ours (written by something else under our prefix, key ${key}): a miss, counted as an error.
      this.rt.counters.errors++;
      return undefined;
    }
  }
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
