import { CacheCounters } from './cache.stats';
import { CacheMetrics } from './cache.metrics';
import type { CacheService } from './cache.service';

describe('CacheMetrics', () => {
  it('exports the cache counters under their names, read from CacheService.stats at each scrape', async () => {
    const stats = new CacheCounters().snapshot({ errors: 0, skipped: 0, outages: 0 });
    const metrics = new CacheMetrics({
      get stats() {
        return { ...stats };
      },
    } as CacheService).metrics();
    expect(metrics.map((m) => m.name)).toEqual([
      'cache_hits_total',
      'cache_misses_total',
      'cache_errors_total',
      'cache_near_hits_total',
      'cache_stale_served_total',
      'cache_loads_total',
      'cache_load_errors_total',
      'cache_coalesced_total',
      'cache_sets_total',
      'cache_deletes_total',
      'cache_tag_invalidations_total',
      'cache_skipped_total',
      'cache_outages_total',
    ]);
    expect(metrics.every((m) => m.type === 'counter' && m.help.length > 0 && !m.labelNames)).toBe(true);
    stats.hits = 3;
    stats.tagInvalidations = 2;
    const read = (name: string) => metrics.find((m) => m.name === name)!.collect();
    expect(await read('cache_hits_total')).toBe(3);
    expect(await read('cache_tag_invalidations_total')).toBe(2);
  });
});
