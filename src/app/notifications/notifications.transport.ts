/** Service name of the notifications on the transport: the consumer group of its `@EventPattern` handlers. */
export const NOTIFICATIONS_SERVICE = 'notifications';

/** Transport id binding the notifications' `@EventPattern` handlers to the notifications' server only. */
export const NOTIFICATIONS_TRANSPORT = Symbol('notifications-service');

/** Injection token of the notifications' `RedisStreamsServer` (connected by `startServices` and the worker). */
export const NOTIFICATIONS_SERVER = 'app:notifications-server';
