import { BadRequestException, Injectable } from '@nestjs/common';
import { LockService, WithLock } from '../../index';
import { DatabaseService, type Queryable } from '../database/database.service';
import { MAX_RESERVE_QTY, MAX_STOCK, SKU_PATTERN } from './dto/inventory.dto';
import { InsufficientStockError, InventoryNotFoundError, StaleFenceError } from './inventory.errors';

/** Stock of one SKU. */
export interface InventoryItem {
  /** The SKU. */
  sku: string;
  /** Units in stock. */
  stock: number;
}

/**
 * Stock per SKU in the database. Every write is a read-modify-write under the distributed lock
 * `inventory:<sku>` and is guarded by the lock's fencing token (`... WHERE fence < $token`), so a holder
 * whose lease ran out (GC pause, slow network) cannot overwrite a newer holder's write.
 */
@Injectable()
export class InventoryService {
  constructor(
    private readonly db: DatabaseService,
    private readonly locks: LockService,
  ) {}

  /** Stock of a SKU, or undefined. */
  async find(sku: string): Promise<InventoryItem | undefined> {
    const r = await this.db.query<{ sku: string; stock: number }>('SELECT sku, stock FROM inventory WHERE sku = $1', [
      sku,
    ]);
    return r.rows[0] ? { sku: r.rows[0].sku, stock: Number(r.rows[0].stock) } : undefined;
  }

  /** Creates a SKU or replaces its stock, under the SKU's lock. */
  @WithLock('inventory:{0}')
  async upsert(sku: string, stock: number): Promise<InventoryItem> {
    checkSku(sku);
    if (!Number.isInteger(stock) || stock < 0 || stock > MAX_STOCK) {
      throw new BadRequestException(`stock must be an integer 0..${MAX_STOCK}`);
    }
    const fence = this.fence();
    const r = await this.db.query<{ sku: string; stock: number }>(
      `INSERT INTO inventory (sku, stock, fence, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (sku) DO UPDATE SET stock = EXCLUDED.stock, fence = EXCLUDED.fence, updated_at = now()
       WHERE inventory.fence < EXCLUDED.fence
       RETURNING sku, stock`,
      [sku, stock, fence],
    );
    if (r.rows.length === 0) throw await this.stale(sku, this.db);
    return { sku: r.rows[0].sku, stock: Number(r.rows[0].stock) };
  }

  /**
   * Takes `qty` units of `sku` under the SKU's lock: reads the stock, checks it, writes the new value with the
   * fencing token. For the orders feature: pass its transaction as `tx` to reserve inside it.
   * @throws InventoryNotFoundError (404), InsufficientStockError (409), StaleFenceError (409),
   *   LockNotAcquiredError (423 + Retry-After), LockLostError / RedisUnavailableError (503)
   */
  @WithLock('inventory:{0}')
  async reserve(sku: string, qty: number, tx?: Queryable): Promise<InventoryItem> {
    return this.reserveHeld(sku, qty, tx ?? this.db);
  }

  /**
   * The read-modify-write of {@link reserve} for a caller that already holds `inventory:<sku>` through
   * `LockService.using()` and keeps it until its transaction `db` commits (the orders flow): the fence is the
   * held lock's token. Throws the same errors as {@link reserve}.
   */
  async reserveHeld(sku: string, qty: number, db: Queryable): Promise<InventoryItem> {
    checkSku(sku);
    if (!Number.isInteger(qty) || qty < 1 || qty > MAX_RESERVE_QTY) {
      throw new BadRequestException(`qty must be an integer 1..${MAX_RESERVE_QTY}`);
    }
    const fence = this.fence();
    const stock = await this.stockOf(sku, db);
    if (stock === undefined) throw new InventoryNotFoundError(sku);
    if (stock < qty) throw new InsufficientStockError(sku, stock, qty);
    // Deliberately not `stock = stock - $2`: the lock (and the fence) make this read-modify-write safe.
    return this.writeFenced(sku, stock - qty, fence, db);
  }

  /**
   * Gives `qty` units of `sku` back (an expired order's reservation), for a caller that holds `inventory:<sku>`
   * until its transaction `db` commits, like {@link reserveHeld}. A SKU removed meanwhile is left alone.
   * @throws StaleFenceError (409), when a newer holder wrote
   */
  async restockHeld(sku: string, qty: number, db: Queryable): Promise<InventoryItem | undefined> {
    const fence = this.fence();
    const stock = await this.stockOf(sku, db);
    if (stock === undefined) return undefined;
    return this.writeFenced(sku, Math.min(stock + qty, MAX_STOCK), fence, db);
  }

  /** The stock of `sku` as `db` sees it, or undefined when the SKU is not kept. */
  private async stockOf(sku: string, db: Queryable): Promise<number | undefined> {
    const r = await db.query<{ stock: number }>('SELECT stock FROM inventory WHERE sku = $1', [sku]);
    return r.rows[0] ? Number(r.rows[0].stock) : undefined;
  }

  /** Writes `stock` with the held lock's fencing token; a newer token already stored → {@link StaleFenceError}. */
  private async writeFenced(sku: string, stock: number, fence: number, db: Queryable): Promise<InventoryItem> {
    const r = await db.query<{ sku: string; stock: number }>(
      `UPDATE inventory SET stock = $2, fence = $3, updated_at = now() WHERE sku = $1 AND fence < $3
       RETURNING sku, stock`,
      [sku, stock, fence],
    );
    if (r.rows.length === 0) throw await this.stale(sku, db);
    return { sku: r.rows[0].sku, stock: Number(r.rows[0].stock) };
  }

  /**
   * A write refused by its fencing token: a newer holder wrote, or Redis lost its counter (restarted empty) and
   * hands out tokens below the stored one. Raise the counter past the stored token so the next holder succeeds.
   */
  private async stale(sku: string, db: Queryable): Promise<StaleFenceError> {
    const stored = await db.query<{ fence: string }>('SELECT fence FROM inventory WHERE sku = $1', [sku]);
    if (stored.rows[0]) await this.locks.advanceFence(`inventory:${sku}`, Number(stored.rows[0].fence));
    return new StaleFenceError(sku);
  }

  private fence(): number {
    const lock = this.locks.current();
    if (!lock) throw new Error('InventoryService: called outside its lock');
    return lock.fence;
  }
}

function checkSku(sku: string): void {
  if (typeof sku !== 'string' || !SKU_PATTERN.test(sku)) {
    throw new BadRequestException('sku must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
  }
}
