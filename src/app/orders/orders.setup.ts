import type { DynamicModule, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagingModule, RedisConfigError } from '../../index';
import { NotificationsModule } from '../notifications/notifications.module';
import { APP_CLUSTER_PUBSUB } from './order.events';
import { OrdersModule } from './orders.module';

/**
 * `MESSAGING_CONSUMERS=false` keeps the stream consumers out of this process (they then run in
 * `npm run start:worker`); anything but `true`/`false`/unset is refused at startup.
 */
export function consumersEnabled(config: ConfigService): boolean {
  const value = config.get<string | boolean | undefined>('MESSAGING_CONSUMERS');
  if (value === undefined || value === '' || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new RedisConfigError('MESSAGING_CONSUMERS', `must be true or false, got ${String(value)}`);
}

/** MessagingModule configured for the reference service (client `default`, consumers per MESSAGING_CONSUMERS). */
export function appMessagingModule(): DynamicModule {
  return MessagingModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService) => ({
      disableConsumers: !consumersEnabled(config),
      clusterPubSub: APP_CLUSTER_PUBSUB,
    }),
  });
}

/** The shop's messaging part: MessagingModule, the orders API (producer, SSE) and the notifications consumer. */
export function shopMessagingModules(): Array<DynamicModule | Type> {
  return [appMessagingModule(), OrdersModule, NotificationsModule];
}
