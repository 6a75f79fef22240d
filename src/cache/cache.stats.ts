import { Injectable } from '@nestjs/common';

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
  /** Redis operations that failed or timed out (each one counted), and values under our prefix that are not ours. */
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

/** The counters the cache's `OutageBreaker` keeps (Redis failures, skipped calls, outages). */
type OutageCounters = Pick<CacheStats, 'errors' | 'skipped' | 'outages'>;

/**
 * The cache's own counters, shared by the store and CacheService. Redis failures are counted by the fail-open
 * breaker; {@link snapshot} adds them. Internal.
 */
@Injectable()
export class CacheCounters {
  /** See {@link CacheStats.hits}. */
  hits = 0;
  /** See {@link CacheStats.misses}. */
  misses = 0;
  /** See {@link CacheStats.nearHits}. */
  nearHits = 0;
  /** See {@link CacheStats.negativeHits}. */
  negativeHits = 0;
  /** See {@link CacheStats.staleServed}. */
  staleServed = 0;
  /** See {@link CacheStats.loads}. */
  loads = 0;
  /** See {@link CacheStats.loadErrors}. */
  loadErrors = 0;
  /** See {@link CacheStats.coalesced}. */
  coalesced = 0;
  /** See {@link CacheStats.lockWaits}. */
  lockWaits = 0;
  /** Values under our prefix that are not ours (not JSON, or not an entry): read as misses, reported as errors. */
  undecodable = 0;
  /** See {@link CacheStats.sets}. */
  sets = 0;
  /** See {@link CacheStats.deletes}. */
  deletes = 0;
  /** See {@link CacheStats.tagInvalidations}. */
  tagInvalidations = 0;
  /** See {@link CacheStats.invalidationsReceived}. */
  invalidationsReceived = 0;

  /** Every counter as {@link CacheStats} (a fresh object), with the breaker's. */
  snapshot(outage: Readonly<OutageCounters>): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      nearHits: this.nearHits,
      negativeHits: this.negativeHits,
      staleServed: this.staleServed,
      loads: this.loads,
      loadErrors: this.loadErrors,
      coalesced: this.coalesced,
      lockWaits: this.lockWaits,
      errors: outage.errors + this.undecodable,
      skipped: outage.skipped,
      outages: outage.outages,
      sets: this.sets,
      deletes: this.deletes,
      tagInvalidations: this.tagInvalidations,
      invalidationsReceived: this.invalidationsReceived,
    };
  }
}
