import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { LockService } from './lock.service';
import { SemaphoreService } from './semaphore.service';

/**
 * The locks' metrics, read at scrape time: `lock_*_total` from {@link LockService.stats} and `semaphore_*_total` from
 * {@link SemaphoreService.stats}.
 */
@FeatureMetricsProvider()
@Injectable()
export class LockMetrics implements FeatureMetricsSource {
  constructor(
    private readonly locks: LockService,
    private readonly semaphores: SemaphoreService,
  ) {}

  /** One counter per exported field of the lock and semaphore stats (wait time in seconds). */
  metrics(): FeatureMetric[] {
    return [
      ...statsCounters('lock', () => this.locks.stats, {
        acquired: { name: 'acquisitions_total', help: 'Locks acquired' },
        failed: { name: 'acquire_failures_total', help: 'Acquisitions given up because the lock stayed busy' },
        unavailable: { help: 'Acquisitions that failed because Redis could not be reached' },
        waitMs: { name: 'wait_seconds_total', help: 'Time spent waiting in acquire(), in seconds', scale: 0.001 },
        extensions: { help: 'Lease extensions (watchdog and explicit)' },
        lost: { name: 'losses_total', help: 'Locks lost while their work ran' },
        released: { name: 'releases_total', help: 'Locks released' },
      }),
      ...statsCounters('semaphore', () => this.semaphores.stats, {
        acquired: { name: 'acquisitions_total', help: 'Semaphore permits taken' },
        refused: { name: 'refusals_total', help: 'Permit requests given up because every permit stayed taken' },
        unavailable: { help: 'Permit requests that failed because Redis could not be reached' },
        released: { name: 'releases_total', help: 'Permits given back while still held' },
      }),
    ];
  }
}
