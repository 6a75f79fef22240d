import { Controller, UsePipes } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import {
  LockLostError,
  LockNotAcquiredError,
  RedisUnavailableError,
  ReplicationTimeoutError,
  isRedisConnectionError,
  type RedisStreamsContext,
} from '../../index';
import { rpcValidationPipe } from '../../transport';
import { StaleFenceError } from './inventory.errors';
import { InventoryService } from './inventory.service';
import {
  INVENTORY_PATTERNS,
  INVENTORY_TRANSPORT,
  ReleaseStockRequest,
  ReserveStockRequest,
  type InventoryRpcError,
  type ReleaseStockReply,
  type ReserveStockReply,
} from './inventory.transport';

/** Time kept for the reply out of the caller's deadline, ms. */
const REPLY_MARGIN_MS = 100;

/**
 * The inventory service's request handlers (`rpc:inventory`): reserve and release an order's stock, by order id,
 * idempotently (see InventoryService.reserveForOrder / releaseForOrder). The SKU's lock is waited for only while
 * the caller still waits. A failure that recorded nothing is an RPC error with a code (`LOCK_BUSY`,
 * `UNAVAILABLE`); the caller may retry with the same order id.
 */
@Controller()
@UsePipes(rpcValidationPipe())
export class InventoryRpcController {
  constructor(private readonly inventory: InventoryService) {}

  /** `inventory.reserve`: the order's recorded outcome (`held`, `untracked`, `refused`, `released`). */
  @MessagePattern(INVENTORY_PATTERNS.reserve, INVENTORY_TRANSPORT)
  reserve(@Payload() req: ReserveStockRequest, @Ctx() ctx: RedisStreamsContext): Promise<ReserveStockReply> {
    return rpcErrors(this.inventory.reserveForOrder(req.orderId, req.sku, req.qty, waitWithin(ctx)));
  }

  /** `inventory.release`: the units this request gave back (0 when none were held or they are back already). */
  @MessagePattern(INVENTORY_PATTERNS.release, INVENTORY_TRANSPORT)
  release(@Payload() req: ReleaseStockRequest, @Ctx() ctx: RedisStreamsContext): Promise<ReleaseStockReply> {
    return rpcErrors(this.inventory.releaseForOrder(req.orderId, req.sku, waitWithin(ctx)));
  }
}

/** How long the SKU's lock may be waited for: until shortly before the caller's deadline (default wait without one). */
function waitWithin(ctx: RedisStreamsContext): number | undefined {
  const deadline = ctx.getDeadline();
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now() - REPLY_MARGIN_MS);
}

/** The lock's and Redis's failures as coded RPC errors (Nest would answer any other error as an anonymous one). */
async function rpcErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof LockNotAcquiredError) {
      throw new RpcException({
        status: 'error',
        code: 'LOCK_BUSY',
        message: err.message,
        retryAfterMs: err.retryAfterMs,
      } satisfies InventoryRpcError);
    }
    if (
      err instanceof LockLostError ||
      err instanceof StaleFenceError ||
      err instanceof RedisUnavailableError ||
      err instanceof ReplicationTimeoutError ||
      isRedisConnectionError(err)
    ) {
      throw new RpcException({
        status: 'error',
        code: 'UNAVAILABLE',
        message: (err as Error).message,
      } satisfies InventoryRpcError);
    }
    throw err;
  }
}
