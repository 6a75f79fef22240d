import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { CacheService } from './cache.service';

/** The cache's metrics (`cache_*_total`), read from {@link CacheService.stats} at scrape time. */
@FeatureMetricsProvider()
@Injectable()
export class CacheMetrics implements FeatureMetricsSource {
  constructor(private readonly cache: CacheService) {}

  /** One counter per exported field of the cache's stats. */
  metrics(): FeatureMetric[] {
    return statsCounters('cache', () => this.cache.stats, {
      hits: { help: 'Cache reads answered from the cache (near cache, stale and negative entries included)' },
      misses: { help: 'Cache reads that found nothing usable (Redis unavailable included)' },
      errors: { help: 'Cache operations on Redis that failed or timed out' },
      nearHits: { help: 'Of the hits: answered by the in-process near cache' },
      staleServed: { help: 'Of the hits: stale entries served while a refresh runs' },
      loads: { help: 'Loader calls made on a miss' },
      loadErrors: { help: 'Loader calls that threw' },
      coalesced: { help: 'Callers that joined a loader call already running (single flight)' },
      sets: { help: 'Entries written' },
      deletes: { help: 'Keys evicted through the cache API' },
      tagInvalidations: { help: 'Tags invalidated' },
      skipped: { help: 'Redis operations skipped while Redis was failing (fail-open fast path)' },
      outages: { help: 'Transitions from Redis working to Redis failing' },
    });
  }
}
