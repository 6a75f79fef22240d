import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventBus, LockService, StreamProducer, type ReplicatedDurability } from '../../index';
import type { AppConfig } from '../config/app.config';
import { InventoryService } from '../inventory/inventory.service';
import { DatabaseService } from '../database/database.service';
import type { CreateOrderDto } from './dto/create-order.dto';
import { toOrder, type Order, type OrderRow } from './order.entity';
import { ORDER_CHANNELS, ORDERS_STREAM, type OrderCreatedEvent } from './order.events';

/** Orders in the SQL database; each new order is announced on the durable `orders` stream. */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');
  /** ORDERS_DURABILITY=replicated: the message must reach a replica before the order is accepted. */
  private readonly durability: ReplicatedDurability | undefined;

  constructor(
    private readonly db: DatabaseService,
    private readonly streams: StreamProducer,
    private readonly bus: EventBus,
    private readonly inventory: InventoryService,
    private readonly locks: LockService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.durability =
      config.get('ORDERS_DURABILITY', { infer: true }) === 'replicated'
        ? { durability: 'replicated', replicas: 1, timeoutMs: 1_000 }
        : undefined;
  }

  /**
   * Stores a `pending` order and adds `order.created` to the `orders` stream in the same transaction:
   * when Redis is down the XADD fails (RedisUnavailableError → 503) and the order is rolled back (likewise with
   * ORDERS_DURABILITY=replicated when no replica confirms: ReplicationTimeoutError → 503; its message then names an
   * order that does not exist, which the consumer dead-letters),
   * so no order stays pending without its message. `traceId` (the HTTP request id) goes into the messages'
   * headers. A SKU kept in the inventory is reserved in that transaction under the lock `inventory:<sku>`,
   * held until it commits, so that no second buyer reads the stock before this write is visible (no
   * overselling): 409 short of stock, 423 lock busy.
   */
  async create(dto: CreateOrderDto, userId: number | null, traceId?: string): Promise<Order> {
    const headers = traceId ? { traceId } : undefined;
    const tracked = await this.inventory.find(dto.sku);
    const order = tracked
      ? await this.locks.using(`inventory:${dto.sku}`, () => this.store(dto, userId, true, headers), {
          context: true, // the inventory reads the held lock's fencing token through LockService.current()
        })
      : await this.store(dto, userId, false, headers);
    // Browsers following GET /events see it at once (pub/sub: best effort, the stream is the durable path).
    this.bus
      .publish(
        ORDER_CHANNELS.created,
        {
          type: 'order.created',
          orderId: order.id,
          userId,
          sku: order.sku,
          qty: order.qty,
        },
        { headers },
      )
      .catch((err: unknown) => this.logger.warn(`order.created not broadcast: ${(err as Error).message}`));
    return order;
  }

  private store(
    dto: CreateOrderDto,
    userId: number | null,
    reserve: boolean,
    headers: { traceId: string } | undefined,
  ): Promise<Order> {
    return this.db.transaction(async (tx) => {
      if (reserve) await this.inventory.reserveHeld(dto.sku, dto.qty, tx);
      const r = await tx.query<OrderRow>(
        `INSERT INTO orders (user_id, sku, qty, status, reserved) VALUES ($1, $2, $3, 'pending', $4) RETURNING *`,
        [userId, dto.sku, dto.qty, reserve],
      );
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
  }

  /** One order, or undefined. */
  async findById(id: number): Promise<Order | undefined> {
    const r = await this.db.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id]);
    return r.rows[0] ? toOrder(r.rows[0]) : undefined;
  }
}
