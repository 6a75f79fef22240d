import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagingModule, RedisConfigError, type RedisStreamsServer } from '../../index';
import { InventoryRpcModule } from '../inventory/inventory-rpc.module';
import { INVENTORY_SERVER, INVENTORY_SERVICE } from '../inventory/inventory.transport';
import { NotificationsModule } from '../notifications/notifications.module';
import { NOTIFICATIONS_SERVER, NOTIFICATIONS_SERVICE } from '../notifications/notifications.transport';
import { APP_CLUSTER_PUBSUB } from './order.events';
import { OrdersModule } from './orders.module';

/** A `true`/`false` switch of the environment, `true` when unset; anything else is refused at startup. */
export function switchOn(config: ConfigService, name: string): boolean {
  const value = config.get<string | boolean | undefined>(name);
  if (value === undefined || value === '' || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new RedisConfigError(name, `must be true or false, got ${String(value)}`);
}

/**
 * `MESSAGING_CONSUMERS=false` keeps the notifications service (its `order.created` handler and the reminders'
 * stream consumers) out of this process: they then run in `npm run start:worker`.
 */
export function consumersEnabled(config: ConfigService): boolean {
  return switchOn(config, 'MESSAGING_CONSUMERS');
}

/** `INVENTORY_SERVER=false` keeps the inventory service out of this process: it then runs in `npm run start:inventory`. */
export function inventoryServerEnabled(config: ConfigService): boolean {
  return switchOn(config, 'INVENTORY_SERVER');
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

/**
 * The shop's messaging part: MessagingModule, the orders API (producer, transport client, SSE), the notifications
 * service and the inventory service (their servers are started by {@link startServices}).
 */
export function shopMessagingModules(): Array<DynamicModule | Type> {
  return [appMessagingModule(), OrdersModule, NotificationsModule, InventoryRpcModule];
}

/**
 * Connects the servers of `services` (name and token: `INVENTORY_SERVER`, `NOTIFICATIONS_SERVER`) to `app` as
 * microservices of a hybrid application and starts them; returns their names.
 */
export async function startServers(app: INestApplication, services: Array<[string, string]>): Promise<string[]> {
  for (const [, token] of services) app.connectMicroservice({ strategy: app.get<RedisStreamsServer>(token) });
  await app.startAllMicroservices();
  return services.map(([name]) => name);
}

/**
 * The services the API process hosts besides its HTTP routes (`npm start`: all of them, one process): the inventory
 * (unless INVENTORY_SERVER=false) and the notifications (unless MESSAGING_CONSUMERS=false). Call it after
 * `configureApp` and before `listen`; returns the names of the services started.
 */
export function startServices(app: INestApplication): Promise<string[]> {
  const config = app.get(ConfigService);
  const services: Array<[string, string]> = [];
  if (inventoryServerEnabled(config)) services.push([INVENTORY_SERVICE, INVENTORY_SERVER]);
  if (consumersEnabled(config)) services.push([NOTIFICATIONS_SERVICE, NOTIFICATIONS_SERVER]);
  return startServers(app, services);
}
