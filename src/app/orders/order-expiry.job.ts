import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Scheduled, type ScheduledTick } from '../../index';
import type { AppConfig } from '../config/app.config';
import { DatabaseService } from '../database/database.service';

/** How often the clean-up runs, in milliseconds. */
export const ORDER_EXPIRY_EVERY_MS = 5_000;

/**
 * The scheduled clean-up: every {@link ORDER_EXPIRY_EVERY_MS}, on one instance of the service whatever their number
 * (the tick is claimed in Redis), orders still `pending` after ORDER_PENDING_TTL_MS become `expired` (visible in
 * `GET /orders/:id`). The notifications service then leaves them so. Redis down: the clean-up waits for it (the
 * tick is skipped, never run on every instance at once); a failure is logged and the next tick tries again.
 */
@Injectable()
export class OrderExpiryJob {
  private readonly logger = new Logger('OrderExpiry');
  private readonly pendingTtlMs: number;

  constructor(
    private readonly db: DatabaseService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pendingTtlMs = Number(config.get('ORDER_PENDING_TTL_MS', { infer: true }));
  }

  /** Marks the orders pending for too long `expired`; returns their ids. */
  @Scheduled({ name: 'orders.expire-pending', everyMs: ORDER_EXPIRY_EVERY_MS, overlap: 'skip', missed: 'run-once' })
  async expirePending(tick: ScheduledTick): Promise<number[]> {
    const r = await this.db.query<{ id: number }>(
      `UPDATE orders SET status = 'expired', updated_at = now()
       WHERE status = 'pending' AND created_at < $1::timestamptz RETURNING id`,
      [new Date(tick.scheduledAt.getTime() - this.pendingTtlMs).toISOString()],
    );
    const ids = r.rows.map((row) => row.id);
    if (ids.length > 0) this.logger.log(`${ids.length} pending order(s) expired: ${ids.join(', ')}`);
    return ids;
  }
}
