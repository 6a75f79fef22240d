import { BadRequestException, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { lastValueFrom } from 'rxjs';
import {
  LockNotAcquiredError,
  RedisStreamsClient,
  RedisStreamsRecord,
  RequestTimeoutError,
  TransportClosedError,
} from '../../index';
import type { AppConfig } from '../config/app.config';
import {
  INVENTORY_PATTERNS,
  isInventoryRpcError,
  type ReleaseStockReply,
  type ReserveStockReply,
} from '../inventory/inventory.transport';

/** An order as the inventory service's requests name it. */
export interface StockRequest {
  /** The order id: the idempotency key of its reservation. */
  orderId: number;
  /** Its SKU. */
  sku: string;
  /** Its quantity. */
  qty: number;
}

/**
 * The orders' side of the inventory service: `send()` through the transport's client (targeting service
 * `inventory`), each request carrying the order id, so that asking twice never takes stock twice.
 */
@Injectable()
export class InventoryClient {
  private readonly timeoutMs: number;

  constructor(
    private readonly client: RedisStreamsClient,
    config: ConfigService<AppConfig, true>,
  ) {
    this.timeoutMs = Number(config.get('ORDER_RESERVE_TIMEOUT_MS', { infer: true }));
  }

  /**
   * Reserves the order's stock: waits ORDER_RESERVE_TIMEOUT_MS for the answer, then asks once more with the same
   * order id (the inventory answers the recorded outcome if the first request was handled) waiting half as long.
   * @throws the error of the last attempt as an HTTP one: see {@link toHttpError}
   */
  async reserve(order: StockRequest, traceId?: string): Promise<ReserveStockReply> {
    const timeouts = [this.timeoutMs, Math.max(1, Math.round(this.timeoutMs / 2))];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call<ReserveStockReply>(INVENTORY_PATTERNS.reserve, order, timeouts[attempt], traceId);
      } catch (err) {
        if (err instanceof RequestTimeoutError && attempt + 1 < timeouts.length) continue;
        throw toHttpError(err, order.sku);
      }
    }
  }

  /** Releases whatever the inventory holds for the order (idempotent). @throws as {@link reserve} */
  async release(order: Pick<StockRequest, 'orderId' | 'sku'>): Promise<ReleaseStockReply> {
    try {
      return await this.call<ReleaseStockReply>(
        INVENTORY_PATTERNS.release,
        { orderId: order.orderId, sku: order.sku },
        this.timeoutMs,
      );
    } catch (err) {
      throw toHttpError(err, order.sku);
    }
  }

  private call<T>(pattern: string, data: unknown, timeoutMs: number, traceId?: string): Promise<T> {
    const record = new RedisStreamsRecord(data, { timeoutMs, headers: traceId ? { traceId } : undefined });
    return lastValueFrom(this.client.send<T>(pattern, record));
  }
}

/**
 * A failed request to the inventory as the API answers it: lock busy → 423 (`LockNotAcquiredError`, Retry-After);
 * no answer in time, the service unable to reach Redis or failing → 503; a refused body → 400; Redis unreachable
 * from here → passed on (503 by the exception filter).
 */
export function toHttpError(err: unknown, sku: string): unknown {
  if (err instanceof RequestTimeoutError || err instanceof TransportClosedError) {
    return new ServiceUnavailableException('the inventory service did not answer in time; the order was not placed');
  }
  if (isInventoryRpcError(err)) {
    if (err.code === 'LOCK_BUSY') return new LockNotAcquiredError([`inventory:${sku}`], err.retryAfterMs ?? 1_000, 1);
    if (err.code === 'INVALID') return new BadRequestException(err.message);
    return new ServiceUnavailableException(`the inventory service is unavailable: ${err.message}`);
  }
  if (err instanceof Error) return err;
  // Any other error reply of the inventory service (Nest's anonymous RPC error): the dependency failed.
  return new ServiceUnavailableException('the inventory service failed; the order was not placed');
}
