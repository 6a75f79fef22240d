import { BadRequestException, Injectable } from '@nestjs/common';
import { LockService, WithLock } from '../../index';
import { DatabaseService, type Queryable } from '../database/database.service';
import { MAX_RESERVE_QTY, MAX_STOCK, SKU_PATTERN } from './dto/inventory.dto';
import { InsufficientStockError, InventoryNotFoundError, StaleFenceError } from './inventory.errors';
import type { ReleaseStockReply, ReservationStatus, ReserveStockReply } from './inventory.transport';

/** A row of `reservations`: what the inventory decided for one order. */
interface ReservationRow {
  sku: string;
  qty: number;
  status: ReservationStatus;
}

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
   * `LockService.using()` and keeps it until its transaction `db` commits: the fence is the held lock's token.
   * Throws the same errors as {@link reserve}.
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
   * Gives `qty` units of `sku` back (an ended order's reservation), for a caller that holds `inventory:<sku>`
   * until its transaction `db` commits, like {@link reserveHeld}. A SKU removed meanwhile is left alone.
   * @throws StaleFenceError (409), when a newer holder wrote
   */
  async restockHeld(sku: string, qty: number, db: Queryable): Promise<InventoryItem | undefined> {
    const fence = this.fence();
    const stock = await this.stockOf(sku, db);
    if (stock === undefined) return undefined;
    return this.writeFenced(sku, Math.min(stock + qty, MAX_STOCK), fence, db);
  }

  /**
   * Reserves the stock of order `orderId`, once: the first request decides (`held`: the units are taken, in the
   * same transaction that records the reservation, under the SKU's lock with its fencing token; `untracked`: the
   * SKU is not kept; `refused`: short of stock) and every later request for the order gets the recorded outcome,
   * taking nothing (a request after the order's release gets `released`). `waitMs` bounds the wait for a busy lock.
   * @throws LockNotAcquiredError, LockLostError / RedisUnavailableError, StaleFenceError (twice in a row): nothing
   *   was recorded
   */
  async reserveForOrder(orderId: number, sku: string, qty: number, waitMs?: number): Promise<ReserveStockReply> {
    const known = await this.reservationOf(orderId, this.db);
    if (known) return { orderId, status: known.status };
    // A SKU that is not kept takes no lock (as before the orders went through this service).
    if (!SKU_PATTERN.test(sku) || (await this.stockOf(sku, this.db)) === undefined) {
      return { orderId, status: (await this.record(orderId, sku, 0, 'untracked', this.db)).status };
    }
    return this.underLock(sku, waitMs, async (tx) => {
      const decided = await this.reservationOf(orderId, tx);
      if (decided) return { orderId, status: decided.status };
      const stock = await this.stockOf(sku, tx);
      if (stock === undefined) return { orderId, status: (await this.record(orderId, sku, 0, 'untracked', tx)).status };
      if (stock < qty) {
        const refused = await this.record(orderId, sku, 0, 'refused', tx);
        return refused.inserted
          ? { orderId, status: refused.status, available: stock }
          : { orderId, status: refused.status };
      }
      const fence = this.fence();
      const recorded = await this.record(orderId, sku, qty, 'held', tx);
      // Recorded by this request: take the units in the same transaction (a stale fence rolls both back).
      if (recorded.inserted) await this.writeFenced(sku, stock - qty, fence, tx);
      return { orderId, status: recorded.status };
    });
  }

  /**
   * Ends the reservation of order `orderId`, once: `held` units go back to the stock (in the transaction that
   * marks the reservation `released`, under the SKU's lock); an order without a reservation gets a `released`
   * record, so that a reserve request still on its way takes nothing; anything else is left as it is.
   * @param sku the order's SKU (the lock of a held reservation is its recorded SKU's)
   * @throws LockNotAcquiredError, LockLostError / RedisUnavailableError, StaleFenceError (twice in a row)
   */
  async releaseForOrder(orderId: number, sku: string, waitMs?: number): Promise<ReleaseStockReply> {
    const tombstone = await this.db.query(
      `INSERT INTO reservations (order_id, sku, qty, status) VALUES ($1, $2, 0, 'released')
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, sku],
    );
    if (tombstone.rows.length > 0) return { orderId, returnedUnits: 0 };
    const known = await this.reservationOf(orderId, this.db);
    if (!known || known.status !== 'held') return { orderId, returnedUnits: 0 };
    return this.underLock(known.sku, waitMs, async (tx) => {
      const held = await this.reservationOf(orderId, tx, true);
      if (!held || held.status !== 'held') return { orderId, returnedUnits: 0 };
      await tx.query(`UPDATE reservations SET status = 'released', updated_at = now() WHERE order_id = $1`, [orderId]);
      await this.restockHeld(held.sku, Number(held.qty), tx);
      return { orderId, returnedUnits: Number(held.qty) };
    });
  }

  /**
   * Runs `work` in a transaction under the SKU's lock (waiting at most `waitMs` for it), with the lock's context
   * for the fencing token; once more when a stale fence refused the write (`stale()` has raised the counter).
   */
  private async underLock<T>(sku: string, waitMs: number | undefined, work: (tx: Queryable) => Promise<T>): Promise<T> {
    const run = () =>
      this.locks.using(`inventory:${sku}`, () => this.db.transaction(work), {
        context: true,
        ...(waitMs === undefined ? {} : { waitMs }),
      });
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof StaleFenceError)) throw err;
      return run();
    }
  }

  /** The recorded reservation of an order (`lock`: FOR UPDATE, inside a transaction). */
  private async reservationOf(orderId: number, db: Queryable, lock = false): Promise<ReservationRow | undefined> {
    const r = await db.query<ReservationRow>(
      `SELECT sku, qty, status FROM reservations WHERE order_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [orderId],
    );
    return r.rows[0];
  }

  /** Records an outcome unless the order has one; returns the order's outcome and whether this call recorded it. */
  private async record(
    orderId: number,
    sku: string,
    qty: number,
    status: ReservationStatus,
    db: Queryable,
  ): Promise<{ status: ReservationStatus; inserted: boolean }> {
    const r = await db.query(
      `INSERT INTO reservations (order_id, sku, qty, status) VALUES ($1, $2, $3, $4)
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, sku, qty, status],
    );
    if (r.rows.length > 0) return { status, inserted: true };
    const known = await this.reservationOf(orderId, db);
    return { status: known?.status ?? status, inserted: false };
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
