import { Injectable } from '@nestjs/common';
import { CacheKeys } from './cache.keys';
import { CacheRedis, UNAVAILABLE, type OrUnavailable } from './cache-redis';
import { BUMP_TAG, TOUCH_TAG } from './cache.scripts';

/** The version of each tag an entry was stored under: tag -> version. */
export type TagVersions = Record<string, string>;

/**
 * Tag versioning: each tag has a version counter `<prefix>cache:tag:{<tag>}`; an entry records the versions of its
 * tags when it is stored, and is a miss once one of them changed. Invalidating a tag is one atomic INCR, O(1)
 * whatever the number of entries, and safe on Cluster (one key per script call). Version keys expire with the
 * entries that carry them instead of growing. Internal to the cache.
 */
@Injectable()
export class CacheTags {
  constructor(
    private readonly redis: CacheRedis,
    private readonly keys: CacheKeys,
  ) {}

  /**
   * The current version of each tag, creating missing ones, and keeps each version key alive at least `ttlMs`.
   * @param ttlMs how long the entry about to be stored may live, in milliseconds
   */
  async touch(tags: readonly string[], ttlMs: number): Promise<OrUnavailable<TagVersions>> {
    const client = this.redis.client;
    const versions = await this.redis.write(() =>
      Promise.all(tags.map((t) => TOUCH_TAG.run<string>(client, [this.keys.tagVersion(t)], [Math.ceil(ttlMs)]))),
    );
    if (versions === UNAVAILABLE) return UNAVAILABLE;
    return Object.fromEntries(tags.map((t, i) => [t, String(versions[i])]));
  }

  /**
   * Invalidates every entry carrying one of `tags` (a miss from then on). Skipped while Redis is unavailable.
   * @returns the number of tags that had live entries
   */
  async bump(tags: readonly string[]): Promise<number> {
    const client = this.redis.client;
    const results = await Promise.all(
      tags.map((t) => this.redis.write(() => BUMP_TAG.run<number>(client, [this.keys.tagVersion(t)], []))),
    );
    return results.filter((r) => r !== UNAVAILABLE && Number(r) > 0).length;
  }

  /**
   * Reads one stored value and the current versions of `tags` in one bounded read (parallel GETs).
   * @param redisKey the full Redis key of the value
   */
  async readWithVersions(
    redisKey: string,
    tags: readonly string[],
  ): Promise<OrUnavailable<{ raw: string | null; versions: Map<string, string | null> }>> {
    const client = this.redis.client;
    const raws = await this.redis.read(() =>
      Promise.all([client.get(redisKey), ...tags.map((t) => client.get(this.keys.tagVersion(t)))]),
    );
    if (raws === UNAVAILABLE) return UNAVAILABLE;
    return { raw: raws[0], versions: new Map(tags.map((t, i) => [t, raws[i + 1]])) };
  }

  /**
   * Whether every tag of `stored` still has the version it was stored under (reads the versions not in `known`).
   * A version key that expired counts as changed.
   */
  async unchanged(stored: TagVersions, known: ReadonlyMap<string, string | null>): Promise<OrUnavailable<boolean>> {
    const current = new Map(known);
    const missing = Object.keys(stored).filter((t) => !current.has(t));
    if (missing.length > 0) {
      const client = this.redis.client;
      const more = await this.redis.read(() => Promise.all(missing.map((t) => client.get(this.keys.tagVersion(t)))));
      if (more === UNAVAILABLE) return UNAVAILABLE;
      missing.forEach((t, i) => current.set(t, more[i]));
    }
    return Object.entries(stored).every(([tag, version]) => current.get(tag) === version);
  }
}
