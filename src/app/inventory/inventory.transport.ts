import { PickType } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { MAX_RESERVE_QTY } from './dto/inventory.dto';

/** SKU format of orders (the inventory keeps a stricter one: an order's SKU outside it is simply not kept). */
const ORDER_SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Service name of the inventory on the transport: its requests go to the stream `rpc:inventory`. */
export const INVENTORY_SERVICE = 'inventory';

/** Transport id binding the inventory's `@MessagePattern` handlers to the inventory's server only. */
export const INVENTORY_TRANSPORT = Symbol('inventory-service');

/** Injection token of the inventory's `RedisStreamsServer` (connected by `startServices`). */
export const INVENTORY_SERVER = 'app:inventory-server';

/** Request patterns of the inventory service. */
export const INVENTORY_PATTERNS = {
  /** Reserve an order's stock: {@link ReserveStockRequest} → {@link ReserveStockReply}. */
  reserve: 'inventory.reserve',
  /** Release an order's reservation: {@link ReleaseStockRequest} → {@link ReleaseStockReply}. */
  release: 'inventory.release',
} as const;

/** Body of `inventory.reserve`: the order the stock is for (the idempotency key), its SKU and quantity. */
export class ReserveStockRequest {
  /** Order id: one reservation per order, whatever the number of requests. */
  @IsInt()
  @Min(1)
  orderId!: number;

  /** Stock keeping unit (the orders' format: 1–64 letters, digits, `.`, `_`, `-`). */
  @IsString()
  @Matches(ORDER_SKU_PATTERN)
  sku!: string;

  /** Units to take. */
  @IsInt()
  @Min(1)
  @Max(MAX_RESERVE_QTY)
  qty!: number;
}

/** Body of `inventory.release`: the order whose reservation ends, and its SKU (whose lock the release takes). */
export class ReleaseStockRequest extends PickType(ReserveStockRequest, ['orderId', 'sku'] as const) {}

/**
 * What the inventory decided for an order, recorded once per order id (later requests get the same answer):
 * `held` (the units are taken), `untracked` (the SKU is not kept in the inventory: nothing to take), `refused`
 * (short of stock), `released` (the order's reservation was released, or released before any reserve came).
 */
export type ReservationStatus = 'held' | 'untracked' | 'refused' | 'released';

/** Reply of `inventory.reserve`. */
export interface ReserveStockReply {
  /** The order. */
  orderId: number;
  /** The recorded outcome. */
  status: ReservationStatus;
  /** Units in stock when a `refused` outcome was recorded. */
  available?: number;
}

/** Reply of `inventory.release`. */
export interface ReleaseStockReply {
  /** The order. */
  orderId: number;
  /** Units given back by this request (0 when nothing was held, or when an earlier release gave them back). */
  returnedUnits: number;
}

/**
 * Error codes of the inventory's RPC errors (`{ status: 'error', code, message, retryAfterMs? }`): nothing was
 * recorded for the order by that request; `LOCK_BUSY` → the caller answers 423, `UNAVAILABLE` → 503,
 * `INVALID` → the request's body was refused.
 */
export type InventoryErrorCode = 'LOCK_BUSY' | 'UNAVAILABLE' | 'INVALID';

/** The error object of a failed inventory request. */
export interface InventoryRpcError {
  /** Always `error` (Nest's RPC error shape). */
  status: 'error';
  /** What kind of failure. */
  code: InventoryErrorCode;
  /** What went wrong. */
  message: string;
  /** `LOCK_BUSY`: when the SKU's lock should be free, ms. */
  retryAfterMs?: number;
}

/** True for an {@link InventoryRpcError}. */
export function isInventoryRpcError(err: unknown): err is InventoryRpcError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { status?: unknown }).status === 'error' &&
    ['LOCK_BUSY', 'UNAVAILABLE', 'INVALID'].includes(String((err as { code?: unknown }).code))
  );
}
