import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout } from '../../index';
import { DatabaseService } from '../database/database.service';

/** Longest a readiness probe waits for `SELECT 1`, in milliseconds. */
export const DATABASE_PROBE_TIMEOUT_MS = 2_000;

/** A @nestjs/terminus indicator that runs `SELECT 1` on the service's database with a timeout. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly db: DatabaseService,
  ) {}

  /** `up` with the round trip when `SELECT 1` answers within {@link DATABASE_PROBE_TIMEOUT_MS}, `down` with the reason otherwise. */
  async isHealthy<const Key extends string = 'database'>(
    key: Key = 'database' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const started = performance.now();
    try {
      await withTimeout(
        this.db.query('SELECT 1'),
        DATABASE_PROBE_TIMEOUT_MS,
        () => new Error(`no answer within ${DATABASE_PROBE_TIMEOUT_MS} ms`),
      );
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return indicator.up({ kind: this.db.kind, latencyMs });
    } catch (err) {
      return indicator.down({ kind: this.db.kind, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
