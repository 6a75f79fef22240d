import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Scheduled, type ScheduledTick } from '../../index';
import type { AppConfig } from '../config/app.config';
import { DatabaseService } from '../database/database.service';
import { InventoryClient } from './inventory.client';

/** How often the clean-up runs, in milliseconds. */
export const ORDER_EXPIRY_EVERY_MS = 5_000;

/**
 * An order still `reserving` this long after it was stored was abandoned by its API instance (it died between
 * the reserve request and the answer): the clean-up marks it `failed`. Far above the longest a placement takes.
 */
export const ORDER_RESERVING_TTL_MS = 30_000;

/** Orders whose reservation one clean-up run releases, at most. */
const RELEASES_PER_RUN = 200;

/** Failed releases after which a clean-up run stops releasing (the next tick tries again). */
const MAX_RELEASE_FAILURES = 3;

/**
 * The scheduled clean-up: every {@link ORDER_EXPIRY_EVERY_MS}, on one instance of the service whatever their number
 * (the tick is claimed in Redis):
 * 1. orders still `reserving` after {@link ORDER_RESERVING_TTL_MS} become `failed`;
 * 2. orders still `pending` after ORDER_PENDING_TTL_MS become `expired` (visible in `GET /orders/:id`; the
 *    notifications service then leaves them so);
 * 3. for each `failed` order, and each `expired` one that reserved stock, not released yet, the inventory service is
 *    asked to release the order's reservation by order id (idempotent: units held go back once; an order it never
 *    reserved for gets a record that stops a late reserve request), and the order is marked released once it answers.
 * The status change comes first, in one conditional UPDATE, so an order is confirmed or expired, placed or failed,
 * never both; the release follows and is retried on every tick until the inventory answers. Redis down: the
 * clean-up waits for it (the tick is skipped, never run on every instance at once); a failure is logged and the
 * next tick tries again.
 */
@Injectable()
export class OrderExpiryJob {
  private readonly logger = new Logger('OrderExpiry');
  private readonly pendingTtlMs: number;

  constructor(
    private readonly db: DatabaseService,
    private readonly inventory: InventoryClient,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pendingTtlMs = Number(config.get('ORDER_PENDING_TTL_MS', { infer: true }));
  }

  /** Fails abandoned orders, expires the orders pending for too long, releases their stock; returns the expired ids. */
  @Scheduled({ name: 'orders.expire-pending', everyMs: ORDER_EXPIRY_EVERY_MS, overlap: 'skip', missed: 'run-once' })
  async expirePending(tick: ScheduledTick): Promise<number[]> {
    const at = tick.scheduledAt.getTime();
    const abandoned = await this.db.query<{ id: number }>(
      `UPDATE orders SET status = 'failed', updated_at = now()
       WHERE status = 'reserving' AND created_at < $1::timestamptz RETURNING id`,
      [new Date(at - ORDER_RESERVING_TTL_MS).toISOString()],
    );
    if (abandoned.rows.length > 0) {
      this.logger.warn(
        `${abandoned.rows.length} abandoned order(s) failed: ${abandoned.rows.map((r) => r.id).join(', ')}`,
      );
    }
    const expired = await this.db.query<{ id: number }>(
      `UPDATE orders SET status = 'expired', updated_at = now()
       WHERE status = 'pending' AND created_at < $1::timestamptz RETURNING id`,
      [new Date(at - this.pendingTtlMs).toISOString()],
    );
    const ids = expired.rows.map((row) => row.id).sort((a, b) => a - b);
    if (ids.length > 0) this.logger.log(`${ids.length} pending order(s) expired: ${ids.join(', ')}`);
    await this.releaseEnded();
    return ids;
  }

  /** Asks the inventory to release the reservations of failed and expired orders not released yet. */
  private async releaseEnded(): Promise<void> {
    const ended = await this.db.query<{ id: number; sku: string }>(
      `SELECT id, sku FROM orders
       WHERE released_at IS NULL AND (status = 'failed' OR (status = 'expired' AND reserved))
       ORDER BY id LIMIT ${RELEASES_PER_RUN}`,
    );
    let failures = 0;
    for (const order of ended.rows) {
      try {
        await this.inventory.release({ orderId: order.id, sku: order.sku });
        await this.db.query('UPDATE orders SET released_at = now() WHERE id = $1', [order.id]);
      } catch (err) {
        this.logger.warn(`order ${order.id} not released this time: ${(err as Error).message}`);
        if (++failures >= MAX_RELEASE_FAILURES) return; // the inventory does not answer: the next tick tries again
      }
    }
  }
}
