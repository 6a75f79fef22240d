import { Controller, UsePipes } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { RedisStreamsContext } from '../../index';
import { rpcValidationPipe } from '../../transport';
import { ORDER_CREATED_PATTERN } from '../orders/order.events';
import { NotificationsConsumer, OrderCreatedMessage } from './notifications.consumer';
import { NOTIFICATIONS_TRANSPORT } from './notifications.transport';

/**
 * The notifications service's durable event handler: `order.created` (stream `evt:order.created`, consumer group
 * `notifications`), each event handled once per service whatever the number of its instances, at least once
 * (a failure is retried with backoff, then dead-lettered; a payload the DTO refuses is dead-lettered with the reason).
 */
@Controller()
export class NotificationsController {
  constructor(private readonly notifications: NotificationsConsumer) {}

  /** Confirms a new order (see NotificationsConsumer.onOrderCreated). */
  @EventPattern<string>(ORDER_CREATED_PATTERN, NOTIFICATIONS_TRANSPORT)
  @UsePipes(rpcValidationPipe())
  onOrderCreated(@Payload() event: OrderCreatedMessage, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    return this.notifications.onOrderCreated(event, ctx.getTraceId());
  }
}
