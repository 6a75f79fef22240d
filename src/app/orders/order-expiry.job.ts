import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LockService, Scheduled, type ScheduledTick } from '../../index';
import type { AppConfig } from '../config/app.config';
import { DatabaseService } from '../database/database.service';
import { InventoryService } from '../inventory/inventory.service';

/** How often the clean-up runs, in milliseconds. */
export const ORDER_EXPIRY_EVERY_MS = 5_000;

/**
 * The scheduled clean-up: every {@link ORDER_EXPIRY_EVERY_MS}, on one instance of the service whatever their number
 * (the tick is claimed in Redis), orders still `pending` after ORDER_PENDING_TTL_MS become `expired` (visible in
 * `GET /orders/:id`) and give back the stock they reserved, under the SKU's lock with its fencing token, in the
 * transaction that expires them. The notifications service then leaves them so. Redis down: the clean-up waits
 * for it (the tick is skipped, never run on every instance at once); a failure is logged and the next tick tries
 * again (an order whose SKU lock is busy is left for the next tick).
 */
@Injectable()
export class OrderExpiryJob {
  private readonly logger = new Logger('OrderExpiry');
  private readonly pendingTtlMs: number;

  constructor(
    private readonly db: DatabaseService,
    private readonly inventory: InventoryService,
    private readonly locks: LockService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pendingTtlMs = Number(config.get('ORDER_PENDING_TTL_MS', { infer: true }));
  }

  /** Marks the orders pending for too long `expired` and restocks what they reserved; returns their ids. */
  @Scheduled({ name: 'orders.expire-pending', everyMs: ORDER_EXPIRY_EVERY_MS, overlap: 'skip', missed: 'run-once' })
  async expirePending(tick: ScheduledTick): Promise<number[]> {
    const cutoff = new Date(tick.scheduledAt.getTime() - this.pendingTtlMs).toISOString();
    const plain = await this.db.query<{ id: number }>(
      `UPDATE orders SET status = 'expired', updated_at = now()
       WHERE status = 'pending' AND NOT reserved AND created_at < $1::timestamptz RETURNING id`,
      [cutoff],
    );
    const ids = plain.rows.map((row) => row.id);
    const reserved = await this.db.query<{ id: number; sku: string; qty: number }>(
      `SELECT id, sku, qty FROM orders WHERE status = 'pending' AND reserved AND created_at < $1::timestamptz
       ORDER BY id`,
      [cutoff],
    );
    for (const order of reserved.rows) {
      try {
        if (await this.expireReserved(order)) ids.push(order.id);
      } catch (err) {
        this.logger.warn(`order ${order.id} not expired this time: ${(err as Error).message}`);
      }
    }
    if (ids.length > 0) this.logger.log(`${ids.length} pending order(s) expired: ${ids.join(', ')}`);
    return ids;
  }

  /** Expires one order that reserved stock and gives the stock back, in one transaction under the SKU's lock. */
  private expireReserved(order: { id: number; sku: string; qty: number }): Promise<boolean> {
    return this.locks.using(
      `inventory:${order.sku}`,
      () =>
        this.db.transaction(async (tx) => {
          const r = await tx.query(
            `UPDATE orders SET status = 'expired', updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id`,
            [order.id],
          );
          if (r.rows.length === 0) return false; // confirmed meanwhile
          await this.inventory.restockHeld(order.sku, Number(order.qty), tx);
          return true;
        }),
      { context: true }, // restockHeld reads the held lock's fencing token through LockService.current()
    );
  }
}
