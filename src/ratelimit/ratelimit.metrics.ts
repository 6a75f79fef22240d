import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { RateLimitService } from './rate-limit.service';

/** The rate limits' metrics, read at scrape time: `ratelimit_*_total` from {@link RateLimitService.stats}. */
@FeatureMetricsProvider()
@Injectable()
export class RateLimitMetrics implements FeatureMetricsSource {
  constructor(private readonly limits: RateLimitService) {}

  /** One counter per field of the rate-limit stats. */
  metrics(): FeatureMetric[] {
    return statsCounters('ratelimit', () => this.limits.stats, {
      allowed: { help: 'Calls allowed by their rate limit' },
      refused: { help: 'Calls refused by their rate limit' },
      failedOpen: { help: 'Calls let through uncounted because Redis could not decide (limits that fail open)' },
      failedClosed: { help: 'Calls refused because Redis could not decide (limits that fail closed)' },
      errors: { help: 'Rate-limit decisions Redis could not take (error, timeout, disconnected)' },
      outages: { help: 'Redis outages seen by the rate limits' },
    });
  }
}
