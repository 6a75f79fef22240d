import { Injectable, Logger } from '@nestjs/common';
import { EventBus, StreamProducer } from '../../index';
import { DatabaseService, type Queryable } from '../database/database.service';
import type { CreateOrderDto } from './dto/create-order.dto';
import { toOrder, type Order, type OrderRow } from './order.entity';
import { ORDER_CHANNELS, ORDERS_STREAM, type OrderCreatedEvent } from './order.events';

/** Orders in the SQL database; each new order is announced on the durable `orders` stream. */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly db: DatabaseService,
    private readonly streams: StreamProducer,
    private readonly bus: EventBus,
  ) {}

  /**
   * Stores a `pending` order and adds `order.created` to the `orders` stream in the same transaction:
   * when Redis is down the XADD fails (RedisUnavailableError → 503) and the order is rolled back,
   * so no order stays pending without its message.
   */
  async create(dto: CreateOrderDto, userId: number | null): Promise<Order> {
    const order = await this.db.transaction(async (tx) => {
      await this.reserveStock(tx, dto);
      const r = await tx.query<OrderRow>(
        `INSERT INTO orders (user_id, sku, qty, status) VALUES ($1, $2, $3, 'pending') RETURNING *`,
        [userId, dto.sku, dto.qty],
      );
      const created = toOrder(r.rows[0]);
      const event: OrderCreatedEvent = {
        type: 'order.created',
        orderId: created.id,
        userId,
        sku: created.sku,
        qty: created.qty,
      };
      await this.streams.add(ORDERS_STREAM, event);
      return created;
    });
    // Browsers following GET /events see it at once (pub/sub: best effort, the stream is the durable path).
    this.bus
      .publish(ORDER_CHANNELS.created, {
        type: 'order.created',
        orderId: order.id,
        userId,
        sku: order.sku,
        qty: order.qty,
      })
      .catch((err: unknown) => this.logger.warn(`order.created not broadcast: ${(err as Error).message}`));
    return order;
  }

  /**
   * Seam for inventory: runs inside the order transaction before the row is written. The locks feature
   * reserves stock here (e.g. under a lock on `sku`) and throws to refuse the order. Today: no stock kept.
   */
  protected async reserveStock(_tx: Queryable, _dto: CreateOrderDto): Promise<void> {
    // intentionally empty until inventory exists
  }

  /** One order, or undefined. */
  async findById(id: number): Promise<Order | undefined> {
    const r = await this.db.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id]);
    return r.rows[0] ? toOrder(r.rows[0]) : undefined;
  }
}
