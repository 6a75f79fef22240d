import { Module } from '@nestjs/common';
import { NotificationsConsumer } from './notifications.consumer';
import { OrderReminderConsumer } from './order-reminder.consumer';

/**
 * The notifications service: the `orders` stream consumer and the order reminders (delayed messages). Runs in the
 * API and/or in `npm run start:worker`.
 */
@Module({ providers: [NotificationsConsumer, OrderReminderConsumer] })
export class NotificationsModule {}
