import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventBus, StreamProducer, type ReplicatedDurability } from '../../index';
import type { AppConfig } from '../config/app.config';
import { DatabaseService } from '../database/database.service';
import { InsufficientStockError } from '../inventory/inventory.errors';
import type { ReserveStockReply } from '../inventory/inventory.transport';
import type { CreateOrderDto } from './dto/create-order.dto';
import { InventoryClient } from './inventory.client';
import { toOrder, type Order, type OrderRow } from './order.entity';
import { ORDER_CHANNELS, ORDERS_STREAM, type OrderCreatedEvent } from './order.events';

/**
 * Orders in the SQL database. Placing one crosses services: the inventory service reserves its stock (a request
 * through the transport, keyed by the order id), then `order.created` goes to the notifications service (a durable
 * event).
 */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');
  /** ORDERS_DURABILITY=replicated: the message must reach a replica before the order is accepted. */
  private readonly durability: ReplicatedDurability | undefined;

  constructor(
    private readonly db: DatabaseService,
    private readonly streams: StreamProducer,
    private readonly bus: EventBus,
    private readonly inventory: InventoryClient,
    config: ConfigService<AppConfig, true>,
  ) {
    this.durability =
      config.get('ORDERS_DURABILITY', { infer: true }) === 'replicated'
        ? { durability: 'replicated', replicas: 1, timeoutMs: 1_000 }
        : undefined;
  }

  /**
   * Places an order, in three steps:
   * 1. the order is stored `reserving`, which gives it its id;
   * 2. the inventory service is asked to reserve its stock with that id (`inventory.reserve`, retried once with the
   *    same id after a timeout: the inventory records one outcome per order, never takes stock twice);
   * 3. `held` (or `untracked`: the SKU is not kept) → in one transaction the order becomes `pending` and
   *    `order.created` is added to its stream (when Redis refuses the XADD — or with ORDERS_DURABILITY=replicated
   *    no replica confirms it — the transaction rolls back).
   *
   * When step 2 or 3 fails the order is marked `failed` and the API answers 503 (423 when the SKU's lock stayed
   * busy, 409 short of stock): a failed order's reservation, if the inventory made one, is released by the
   * clean-up job (`OrderExpiryJob`), by order id. `traceId` (the HTTP request id) goes into the messages' headers.
   */
  async create(dto: CreateOrderDto, userId: number | null, traceId?: string): Promise<Order> {
    const headers = traceId ? { traceId } : undefined;
    const stored = await this.db.query<OrderRow>(
      `INSERT INTO orders (user_id, sku, qty, status) VALUES ($1, $2, $3, 'reserving') RETURNING *`,
      [userId, dto.sku, dto.qty],
    );
    const id = stored.rows[0].id;
    let reply: ReserveStockReply;
    try {
      reply = await this.inventory.reserve({ orderId: id, sku: dto.sku, qty: dto.qty }, traceId);
    } catch (err) {
      await this.fail(id, false); // the inventory may have recorded a reservation: the clean-up job releases it
      throw err;
    }
    if (reply.status === 'refused' || reply.status === 'released') {
      await this.fail(id, true); // recorded as taking nothing: nothing to release
      if (reply.status === 'refused') throw new InsufficientStockError(dto.sku, reply.available ?? 0, dto.qty);
      throw new ServiceUnavailableException(`order ${id} was cancelled while its stock was reserved; order again`);
    }
    let order: Order;
    try {
      order = await this.db.transaction(async (tx) => {
        const r = await tx.query<OrderRow>(
          `UPDATE orders SET status = 'pending', reserved = $2, updated_at = now()
           WHERE id = $1 AND status = 'reserving' RETURNING *`,
          [id, reply.status === 'held'],
        );
        // The clean-up job failed it meanwhile (this request took longer than it waits): its stock goes back.
        if (r.rows.length === 0) throw new ServiceUnavailableException(`order ${id} timed out while it was placed`);
        const created = toOrder(r.rows[0]);
        const event: OrderCreatedEvent = {
          type: 'order.created',
          orderId: created.id,
          userId,
          sku: created.sku,
          qty: created.qty,
        };
        await this.streams.add(ORDERS_STREAM, event, { headers, durability: this.durability });
        return created;
      });
    } catch (err) {
      await this.fail(id, reply.status !== 'held');
      throw err;
    }
    // Browsers following GET /events see it at once (pub/sub: best effort, the stream is the durable path).
    this.bus
      .publish(
        ORDER_CHANNELS.created,
        { type: 'order.created', orderId: order.id, userId, sku: order.sku, qty: order.qty },
        { headers },
      )
      .catch((err: unknown) => this.logger.warn(`order.created not broadcast: ${(err as Error).message}`));
    return order;
  }

  /**
   * Marks a `reserving` order `failed`; `nothingHeld`: the inventory recorded that it holds nothing for it (else
   * the clean-up job releases it). A failure here leaves the order `reserving`, which the clean-up job fails later.
   */
  private async fail(id: number, nothingHeld: boolean): Promise<void> {
    await this.db
      .query(
        `UPDATE orders SET status = 'failed', updated_at = now(), released_at = CASE WHEN $2 THEN now() END
         WHERE id = $1 AND status = 'reserving'`,
        [id, nothingHeld],
      )
      .catch((err: unknown) => this.logger.warn(`order ${id} left reserving: ${(err as Error).message}`));
  }

  /** One order, or undefined. */
  async findById(id: number): Promise<Order | undefined> {
    const r = await this.db.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id]);
    return r.rows[0] ? toOrder(r.rows[0]) : undefined;
  }
}
