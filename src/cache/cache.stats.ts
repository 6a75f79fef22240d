/**
 * Counters of the cache since the process started. Every field only grows (Prometheus counters): a
 * metrics module reads `CacheService.stats` at scrape time.
 */
export interface CacheStats {
  /** Reads answered from the cache (Redis or near cache), stale answers and negative entries included. */
  hits: number;
  /** Reads that found nothing usable (absent, expired, invalidated by a tag, or Redis unavailable). */
  misses: number;
  /** Of the hits: answered by the in-process near cache without a Redis round trip. */
  nearHits: number;
  /** Of the hits: "not found" entries (negative caching). */
  negativeHits: number;
  /** Of the hits: stale entries served while a refresh runs (stale-while-revalidate). */
  staleServed: number;
  /** Loader calls made by `getOrSet` / `@Cacheable` (single-flight keeps this low). */
  loads: number;
  /** Loader calls that threw. */
  loadErrors: number;
  /** Callers that joined a loader call already running in this process. */
  coalesced: number;
  /** Times this process waited for another process's loader (cross-process lock lost). */
  lockWaits: number;
  /** Redis operations that failed or timed out (each one counted). */
  errors: number;
  /** Redis operations not attempted because Redis was failing (fail-open fast path). */
  skipped: number;
  /** Transitions from "Redis works" to "Redis fails" (each outage counted once). */
  outages: number;
  /** Entries written. */
  sets: number;
  /** Keys deleted through the cache API (evictions). */
  deletes: number;
  /** Tags invalidated. */
  tagInvalidations: number;
  /** Near-cache invalidation messages received from other processes. */
  invalidationsReceived: number;
}

/** A fresh set of zeroed counters. */
export function emptyStats(): CacheStats {
  return {
    hits: 0,
    misses: 0,
    nearHits: 0,
    negativeHits: 0,
    staleServed: 0,
    loads: 0,
    loadErrors: 0,
    coalesced: 0,
    lockWaits: 0,
    errors: 0,
    skipped: 0,
    outages: 0,
    sets: 0,
    deletes: 0,
    tagInvalidations: 0,
    invalidationsReceived: 0,
  };
}
