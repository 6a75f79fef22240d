import { Module } from '@nestjs/common';
import { RedisStreamsTransportModule } from '../../index';
import { serviceServerProvider } from '../common/service-server';
import { NotificationsConsumer } from './notifications.consumer';
import { NotificationsController } from './notifications.controller';
import { NOTIFICATIONS_SERVER, NOTIFICATIONS_SERVICE, NOTIFICATIONS_TRANSPORT } from './notifications.transport';
import { OrderReminderConsumer } from './order-reminder.consumer';

/**
 * The notifications service: its server (service `notifications`, provided as NOTIFICATIONS_SERVER) with the
 * `order.created` event handler, and the order reminders (delayed messages, `@StreamConsumer`s). Runs in the API
 * (unless MESSAGING_CONSUMERS=false) and/or in `npm run start:worker`.
 */
@Module({
  imports: [RedisStreamsTransportModule.forRoot({ service: NOTIFICATIONS_SERVICE, isGlobal: false })],
  controllers: [NotificationsController],
  providers: [
    NotificationsConsumer,
    OrderReminderConsumer,
    serviceServerProvider(NOTIFICATIONS_SERVER, NOTIFICATIONS_TRANSPORT),
  ],
  exports: [NOTIFICATIONS_SERVER],
})
export class NotificationsModule {}
