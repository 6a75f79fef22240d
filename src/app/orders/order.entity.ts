/**
 * Order lifecycle:
 * - `reserving`: stored, its stock being reserved by the inventory service (the order's id travels with the request);
 * - `pending`: the inventory answered (stock held, or the SKU is not kept) and `order.created` is in its stream;
 * - `confirmed` once the notifications service processed it;
 * - `expired` when it stayed pending longer than ORDER_PENDING_TTL_MS (the scheduled clean-up job, `OrderExpiryJob`);
 * - `failed` when the reservation did not complete (short of stock, inventory unreachable or too slow, the order's
 *   message not stored): whatever the inventory may hold for it is released by order id.
 */
export type OrderStatus = 'reserving' | 'pending' | 'confirmed' | 'expired' | 'failed';

/** Every {@link OrderStatus}, for validation and the OpenAPI document. */
export const ORDER_STATUSES: readonly OrderStatus[] = ['reserving', 'pending', 'confirmed', 'expired', 'failed'];

/** An order as the API shows it. */
export interface Order {
  /** Database id. */
  id: number;
  /** Owner (null for orders placed without a user). */
  userId: number | null;
  /** Stock keeping unit. */
  sku: string;
  /** Quantity ordered (>= 1). */
  qty: number;
  /** `reserving` → `pending` → `confirmed`, or `pending` → `expired`, or `reserving` → `failed`. */
  status: OrderStatus;
  /** When the order's reminder (REMINDER_DELAY_MS after it was placed) was sent, ISO 8601; null before. */
  remindedAt: string | null;
  /** Creation time, ISO 8601. */
  createdAt: string;
  /** Last change, ISO 8601. */
  updatedAt: string;
}

/** Row shape of the `orders` table. */
export interface OrderRow {
  id: number;
  user_id: number | null;
  sku: string;
  qty: number;
  status: OrderStatus;
  reserved: boolean;
  released_at: Date | string | null;
  reminded_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** Maps a row to the API shape. */
export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    sku: row.sku,
    qty: row.qty,
    status: row.status,
    remindedAt: row.reminded_at === null || row.reminded_at === undefined ? null : iso(row.reminded_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}
