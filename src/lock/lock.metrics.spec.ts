import { LockMetrics } from './lock.metrics';
import type { LockService, LockStats } from './lock.service';
import type { SemaphoreService, SemaphoreStats } from './semaphore.service';

describe('LockMetrics', () => {
  it('exports the lock and semaphore counters under their names, wait time in seconds', async () => {
    const stats: LockStats = {
      acquired: 4,
      failed: 1,
      unavailable: 0,
      waitMs: 1500,
      extensions: 2,
      lost: 0,
      released: 3,
    };
    const permits: SemaphoreStats = { acquired: 6, refused: 2, unavailable: 1, released: 5 };
    const metrics = new LockMetrics({ stats } as LockService, { stats: permits } as SemaphoreService).metrics();
    expect(metrics.map((m) => m.name)).toEqual([
      'lock_acquisitions_total',
      'lock_acquire_failures_total',
      'lock_unavailable_total',
      'lock_wait_seconds_total',
      'lock_extensions_total',
      'lock_losses_total',
      'lock_releases_total',
      'semaphore_acquisitions_total',
      'semaphore_refusals_total',
      'semaphore_unavailable_total',
      'semaphore_releases_total',
    ]);
    const read = (name: string) => metrics.find((m) => m.name === name)!.collect();
    expect(await read('lock_acquisitions_total')).toBe(4);
    expect(await read('lock_wait_seconds_total')).toBe(1.5);
    expect(await read('semaphore_refusals_total')).toBe(2);
  });
});
