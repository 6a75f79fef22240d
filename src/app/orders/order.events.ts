import { eventStreamName } from '../../index';

/** Transport pattern of a new order: the notifications service handles it as a durable `@EventPattern`. */
export const ORDER_CREATED_PATTERN = 'order.created';

/**
 * Durable stream of {@link ORDER_CREATED_PATTERN} (the transport's `evt:order.created`): the API adds each new order
 * to it in the order's transaction; the `notifications` service reads it in its consumer group, the reminders in theirs.
 */
export const ORDERS_STREAM = eventStreamName(ORDER_CREATED_PATTERN);

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
