/** Durable stream the API adds new orders to; the notifications group consumes it. */
export const ORDERS_STREAM = 'orders';

/** Consumer group of the notifications service on {@link ORDERS_STREAM}. */
export const NOTIFICATIONS_GROUP = 'notifications';

/** Pub/sub channels relayed to browsers by `GET /events` (pattern `order.*`). */
export const ORDER_CHANNELS = {
  created: 'order.created',
  confirmed: 'order.confirmed',
} as const;

/**
 * Pub/sub mode of every process of the service on a Redis Cluster (no effect on a single node or Sentinel):
 * `classic`, because `GET /events` subscribes to the pattern `order.*` and sharded pub/sub (the library's default
 * on Cluster) has no patterns. The API and the worker must agree: a sharded SPUBLISH never reaches a classic
 * subscriber.
 */
export const APP_CLUSTER_PUBSUB = 'classic';

/** Payload of `order.created` (stream entry and pub/sub event). */
export interface OrderCreatedEvent {
  /** Always `order.created`. */
  type: 'order.created';
  /** Order id. */
  orderId: number;
  /** Owner, when known. */
  userId: number | null;
  /** Stock keeping unit. */
  sku: string;
  /** Quantity. */
  qty: number;
}

/** Payload of `order.confirmed` (pub/sub). */
export interface OrderConfirmedEvent {
  /** Always `order.confirmed`. */
  type: 'order.confirmed';
  /** Order id. */
  orderId: number;
  /** Owner, when known. */
  userId: number | null;
}
