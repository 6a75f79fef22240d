import { ConflictException, NotFoundException } from '@nestjs/common';

/** The SKU does not hold enough units for a reservation (HTTP 409). */
export class InsufficientStockError extends ConflictException {
  /**
   * @param sku the SKU
   * @param available units in stock
   * @param requested units asked for
   */
  constructor(
    readonly sku: string,
    readonly available: number,
    readonly requested: number,
  ) {
    super(`insufficient stock for ${sku}: ${available} available, ${requested} requested`);
  }
}

/** No such SKU (HTTP 404). */
export class InventoryNotFoundError extends NotFoundException {
  /** @param sku the SKU looked for */
  constructor(readonly sku: string) {
    super(`sku ${sku} not found`);
  }
}

/** A write was refused by the fencing token: a newer lock holder wrote first (HTTP 409; retry). */
export class StaleFenceError extends ConflictException {
  /** @param sku the SKU */
  constructor(readonly sku: string) {
    super(`write to ${sku} refused: a newer lock holder has written (stale fencing token); retry`);
  }
}
