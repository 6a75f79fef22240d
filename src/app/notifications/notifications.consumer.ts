import { Injectable, Logger } from '@nestjs/common';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { EventBus } from '../../index';
import { DatabaseService } from '../database/database.service';
import { ORDER_CHANNELS, type OrderConfirmedEvent } from '../orders/order.events';

/** Validated shape of `order.created` as the notifications service reads it. */
export class OrderCreatedMessage {
  /** Always `order.created`. */
  @IsIn(['order.created'])
  type!: 'order.created';

  /** Order id. */
  @IsInt()
  @Min(1)
  orderId!: number;

  /** Owner, when known. */
  @IsOptional()
  @IsInt()
  userId!: number | null;

  /** Stock keeping unit. */
  @IsString()
  sku!: string;

  /** Quantity. */
  @IsInt()
  @Min(1)
  qty!: number;
}

/**
 * The notifications service's work on a new order (its `@EventPattern('order.created')` handler is
 * NotificationsController): records a notification, confirms the order and broadcasts `order.confirmed`. Only a
 * `pending` order is confirmed: one the clean-up job expired meanwhile stays `expired`, a `failed` one stays failed.
 * Idempotent: a redelivered event (after a crash) confirms nothing twice and records one notification
 * (UNIQUE (order_id, kind)).
 */
@Injectable()
export class NotificationsConsumer {
  private readonly logger = new Logger('Notifications');

  constructor(
    private readonly db: DatabaseService,
    private readonly bus: EventBus,
  ) {}

  /**
   * Handles one `order.created`; throws (→ retry, then dead letter) when the order does not exist or is still
   * `reserving` (its transaction has not committed yet).
   */
  async onOrderCreated(event: OrderCreatedMessage, traceId: string | undefined): Promise<void> {
    const confirmed = await this.db.transaction(async (tx) => {
      const r = await tx.query<{ id: number; user_id: number | null; status: string }>(
        `UPDATE orders SET status = 'confirmed', updated_at = now()
         WHERE id = $1 AND status IN ('pending', 'confirmed') RETURNING id, user_id, status`,
        [event.orderId],
      );
      if (r.rows.length === 0) {
        const now = await tx.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [event.orderId]);
        const status = now.rows[0]?.status;
        if (status === undefined) throw new Error(`order ${event.orderId} not found`);
        if (status === 'reserving') throw new Error(`order ${event.orderId} not stored yet`);
        return status; // expired (the clean-up job came first) or failed: it stays so
      }
      await tx.query(
        `INSERT INTO notifications (order_id, user_id, kind, message) VALUES ($1, $2, 'order.confirmed', $3)
         ON CONFLICT (order_id, kind) DO NOTHING`,
        [event.orderId, r.rows[0].user_id, `Your order of ${event.qty} x ${event.sku} is confirmed`],
      );
      return r.rows[0];
    });
    if (typeof confirmed === 'string') {
      this.logger.log(`order ${event.orderId} is ${confirmed}: not confirmed`);
      return;
    }
    const payload: OrderConfirmedEvent = { type: 'order.confirmed', orderId: confirmed.id, userId: confirmed.user_id };
    await this.bus
      .publish(ORDER_CHANNELS.confirmed, payload, { headers: traceId ? { traceId } : undefined })
      .catch((err: unknown) => this.logger.warn(`order.confirmed not broadcast: ${(err as Error).message}`));
  }
}
