/** A cache key (or tag) is not usable: empty, too long, not a string, or in the module's reserved space. */
export class CacheKeyError extends Error {
  override readonly name = 'CacheKeyError';
  /**
   * @param key the offending key or tag, as given
   * @param problem what is wrong with it
   */
  constructor(
    readonly key: unknown,
    problem: string,
  ) {
    super(`Invalid cache key ${JSON.stringify(String(key))}: ${problem}`);
  }
}

/** A value cannot be stored as JSON (BigInt, circular structure, undefined, a function...). */
export class CacheSerializationError extends Error {
  override readonly name = 'CacheSerializationError';
  /**
   * @param key the cache key the value was meant for
   * @param reason why it cannot be encoded
   */
  constructor(
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot cache the value of "${key}" as JSON: ${reason}`, options);
  }
}
