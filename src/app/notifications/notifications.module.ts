import { Module } from '@nestjs/common';
import { NotificationsConsumer } from './notifications.consumer';

/** The notifications service: the `orders` stream consumer. Runs in the API and/or in `npm run start:worker`. */
@Module({ providers: [NotificationsConsumer] })
export class NotificationsModule {}
