import { Keyv, type StoredDataNoRaw, type StoredDataRaw } from 'keyv';
import type { RedisKeyvStore } from './redis-keyv.store';

/**
 * Keyv on a {@link RedisKeyvStore} without serializer or namespace: values stored once as plain JSON. Raw reads
 * (`get(key, { raw: true })`, `getRaw`: what cache-manager's `ttl()` and `wrap()` refresh use) come with the entry's
 * `expires`, read from Redis (PTTL), since plain JSON carries no expiry of its own. Raw reads skip Keyv's hooks.
 */
class PlainJsonKeyv extends Keyv {
  constructor(
    private readonly redisStore: RedisKeyvStore,
    defaultTtlMs: number,
  ) {
    super({
      store: redisStore,
      ttl: defaultTtlMs,
      namespace: undefined,
      useKeyPrefix: false,
      serialize: undefined,
      deserialize: undefined,
      throwOnErrors: true,
    });
  }

  override get<Value = unknown>(key: string, options?: { raw: false }): Promise<StoredDataNoRaw<Value>>;
  override get<Value = unknown>(key: string, options?: { raw: true }): Promise<StoredDataRaw<Value>>;
  override get<Value = unknown>(key: string[], options?: { raw: false }): Promise<Array<StoredDataNoRaw<Value>>>;
  override get<Value = unknown>(key: string[], options?: { raw: true }): Promise<Array<StoredDataRaw<Value>>>;
  override get<Value = unknown>(
    key: string | string[],
    options?: { raw: boolean },
  ): Promise<StoredDataNoRaw<Value> | StoredDataRaw<Value> | Array<StoredDataNoRaw<Value> | StoredDataRaw<Value>>> {
    if (options?.raw === true && typeof key === 'string') return this.getRaw<Value>(key);
    return super.get<Value>(key as string, options as { raw: false });
  }

  override getRaw<Value = unknown>(key: string): Promise<StoredDataRaw<Value> | undefined> {
    return this.redisStore.getWithExpiry<Value>(key) as Promise<StoredDataRaw<Value> | undefined>;
  }
}

/**
 * The Keyv instance given to @nestjs/cache-manager (CACHE_MANAGER): `store`, with Keyv's serializer and namespace
 * off so that each value is stored once-encoded as plain JSON under `<prefix>cache:<key>`; raw reads carry the entry's
 * expiry, so cache-manager's `ttl(key)` answers. Bad input (empty key, a value without a JSON form) throws instead
 * of being swallowed. Give it a store of its own (Keyv sets the store's namespace).
 * @param defaultTtlMs TTL of `set` calls that give none, in milliseconds
 */
export function createRedisKeyv(store: RedisKeyvStore, defaultTtlMs: number): Keyv {
  const keyv = new PlainJsonKeyv(store, defaultTtlMs);
  keyv.on('error', () => undefined);
  return keyv;
}
