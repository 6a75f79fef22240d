import { decodeCacheValue } from './cache-value.codec';
import type { TagVersions } from './cache.tags';

/**
 * Stored form of a CacheService entry, as JSON under `<prefix>cache:<key>`:
 * `{"v":value,"f":freshUntilMs,"t":{tag:version},"n":1}`.
 */
export interface CacheEntry {
  /** The value (absent for an undefined "not found"). */
  v?: unknown;
  /** Fresh until this time, ms since the epoch; served stale after it while the key lives. */
  f: number;
  /** The version of each tag when the value was loaded. */
  t?: TagVersions;
  /** 1 for a negative ("not found") entry. */
  n?: 1;
}

/** The entry stored as `text`, or undefined when the text is not one of ours (not JSON, or not an entry). */
export function decodeCacheEntry(text: string): CacheEntry | undefined {
  const entry = decodeCacheValue(text);
  return typeof entry === 'object' && entry !== null && typeof (entry as CacheEntry).f === 'number'
    ? (entry as CacheEntry)
    : undefined;
}

/** The tags an entry carries. */
export function entryTags(entry: CacheEntry): string[] {
  return entry.t ? Object.keys(entry.t) : [];
}
