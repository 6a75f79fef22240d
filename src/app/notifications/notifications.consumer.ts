import { Injectable, Logger } from '@nestjs/common';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { EventBus, StreamConsumer, type StreamMessage } from '../../index';
import { DatabaseService } from '../database/database.service';
import { NOTIFICATIONS_GROUP, ORDER_CHANNELS, ORDERS_STREAM, type OrderConfirmedEvent } from '../orders/order.events';

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
 * The notifications service: consumes `order.created` from the `orders` stream (group `notifications`),
 * records a notification, confirms the order and broadcasts `order.confirmed` (an order the clean-up job expired
 * meanwhile stays `expired`). Idempotent: a redelivered message (after a crash) confirms nothing twice and records
 * one notification (UNIQUE (order_id, kind)).
 */
@Injectable()
export class NotificationsConsumer {
  private readonly logger = new Logger('Notifications');

  constructor(
    private readonly db: DatabaseService,
    private readonly bus: EventBus,
  ) {}

  /** Handles one `order.created`; throws (→ retry, then DLQ) when the order does not exist (yet). */
  @StreamConsumer({ stream: ORDERS_STREAM, group: NOTIFICATIONS_GROUP, concurrency: 4, dto: OrderCreatedMessage })
  async onOrderCreated(event: OrderCreatedMessage, message: StreamMessage<OrderCreatedMessage>): Promise<void> {
    const confirmed = await this.db.transaction(async (tx) => {
      const r = await tx.query<{ id: number; user_id: number | null; status: string }>(
        `UPDATE orders SET status = CASE WHEN status = 'expired' THEN status ELSE 'confirmed' END, updated_at = now()
         WHERE id = $1 RETURNING id, user_id, status`,
        [event.orderId],
      );
      if (r.rows.length === 0) throw new Error(`order ${event.orderId} not found`);
      if (r.rows[0].status === 'expired') return undefined; // the clean-up job expired it first: it stays so
      await tx.query(
        `INSERT INTO notifications (order_id, user_id, kind, message) VALUES ($1, $2, 'order.confirmed', $3)
         ON CONFLICT (order_id, kind) DO NOTHING`,
        [event.orderId, r.rows[0].user_id, `Your order of ${event.qty} x ${event.sku} is confirmed`],
      );
      return r.rows[0];
    });
    if (!confirmed) {
      this.logger.log(`order ${event.orderId} expired before it was confirmed: left expired`);
      return;
    }
    const payload: OrderConfirmedEvent = { type: 'order.confirmed', orderId: confirmed.id, userId: confirmed.user_id };
    await this.bus
      .publish(ORDER_CHANNELS.confirmed, payload, { headers: { traceId: message.envelope.headers.traceId } })
      .catch((err: unknown) => this.logger.warn(`order.confirmed not broadcast: ${(err as Error).message}`));
  }
}
