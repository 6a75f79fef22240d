/**
 * Order lifecycle: `pending` when stored, `confirmed` once the notifications service processed it, `expired` when it
 * stayed pending longer than ORDER_PENDING_TTL_MS (the scheduled clean-up job, `OrderExpiryJob`).
 */
export type OrderStatus = 'pending' | 'confirmed' | 'expired';

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
  /** `pending` → `confirmed`, or `pending` → `expired`. */
  status: OrderStatus;
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
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
