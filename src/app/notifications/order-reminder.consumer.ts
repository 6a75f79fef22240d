import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PickType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { StreamConsumer, StreamProducer, type StreamMessage } from '../../index';
import type { AppConfig } from '../config/app.config';
import { DatabaseService } from '../database/database.service';
import { ORDERS_STREAM } from '../orders/order.events';
import { OrderCreatedMessage } from './notifications.consumer';
import { NOTIFICATIONS_SERVICE } from './notifications.transport';

/** Stream of the delayed `order.reminder` messages. */
export const ORDER_REMINDERS_STREAM = 'order-reminders';

/** Consumer group on {@link ORDERS_STREAM} that schedules one reminder per new order. */
export const REMINDERS_GROUP = 'reminders';

/** Validated payload of `order.reminder`: the order and its owner, as in `order.created`. */
export class OrderReminderMessage extends PickType(OrderCreatedMessage, ['orderId', 'userId'] as const) {
  /** Always `order.reminder`. */
  @IsIn(['order.reminder'])
  type!: 'order.reminder';
}

/** The reminder text for an order in `status`. */
function reminderText(status: string): string {
  if (status === 'pending') return 'Your order is still waiting to be confirmed';
  if (status === 'expired') return 'Your order expired before it was confirmed; you can order again';
  if (status === 'failed') return 'Your order could not be placed; you can order again';
  return 'Your order is confirmed and on its way';
}

/**
 * Order reminders through delayed messages: each `order.created` of its stream (`evt:order.created`, group
 * `reminders`) schedules an `order.reminder` on the `order-reminders` stream, due REMINDER_DELAY_MS later (it waits
 * in Redis, whatever instance runs or restarts meanwhile); once due, one instance records a notification of kind
 * `order.reminder` for the order, worded after its status then, and sets the order's `reminded_at` (`remindedAt`
 * in GET /orders/:id) in the same transaction. Idempotent: a redelivered `order.created` may schedule a second
 * reminder, but the order gets one notification of the kind (UNIQUE (order_id, kind)) and keeps its first
 * `reminded_at`.
 */
@Injectable()
export class OrderReminderConsumer {
  private readonly logger = new Logger('Notifications');
  private readonly delayMs: number;

  constructor(
    private readonly db: DatabaseService,
    private readonly producer: StreamProducer,
    config: ConfigService<AppConfig, true>,
  ) {
    this.delayMs = Number(config.get('REMINDER_DELAY_MS', { infer: true }));
  }

  /** Schedules the reminder of a new order; throws (→ retry) when Redis refuses. */
  @StreamConsumer({ stream: ORDERS_STREAM, group: REMINDERS_GROUP, dto: OrderCreatedMessage })
  async onOrderCreated(event: OrderCreatedMessage, message: StreamMessage<OrderCreatedMessage>): Promise<void> {
    const reminder: OrderReminderMessage = { type: 'order.reminder', orderId: event.orderId, userId: event.userId };
    await this.producer.add(ORDER_REMINDERS_STREAM, reminder, {
      delayMs: this.delayMs,
      headers: { traceId: message.envelope.headers.traceId },
    });
  }

  /** Records the reminder of a due `order.reminder` (notification + `reminded_at`); an order deleted meanwhile gets none. */
  @StreamConsumer({ stream: ORDER_REMINDERS_STREAM, group: NOTIFICATIONS_SERVICE, dto: OrderReminderMessage })
  async onReminder(event: OrderReminderMessage): Promise<void> {
    const r = await this.db.query<{ status: string; user_id: number | null }>(
      'SELECT status, user_id FROM orders WHERE id = $1',
      [event.orderId],
    );
    if (r.rows.length === 0) {
      this.logger.log(`order ${event.orderId} is gone: no reminder`);
      return;
    }
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO notifications (order_id, user_id, kind, message) VALUES ($1, $2, 'order.reminder', $3)
         ON CONFLICT (order_id, kind) DO NOTHING`,
        [event.orderId, r.rows[0].user_id, reminderText(r.rows[0].status)],
      );
      await tx.query(
        `UPDATE orders SET reminded_at = now(), updated_at = now() WHERE id = $1 AND reminded_at IS NULL`,
        [event.orderId],
      );
    });
  }
}
