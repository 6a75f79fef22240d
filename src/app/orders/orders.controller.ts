import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Req,
  UseGuards,
  type MessageEvent,
  Sse,
  SseSignal,
} from '@nestjs/common';
import { filter, map, startWith, type Observable } from 'rxjs';
import { CurrentUser, EventBus, SessionAuthGuard } from '../../index';
import type { PublicUser } from '../users/user.entity';
import { CreateOrderDto } from './dto/create-order.dto';
import type { Order } from './order.entity';
import type { OrderCreatedEvent } from './order.events';
import { OrdersService } from './orders.service';

/** Orders of the logged-in user, and their live events. */
@Controller()
@UseGuards(SessionAuthGuard)
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly bus: EventBus,
  ) {}

  /**
   * Places an order: 201 with the `pending` order (its stock reserved by the inventory service); 400 on a bad body;
   * 401 when not logged in; 409 short of stock; 423 when the SKU's lock stays busy; 503 when Redis is down or the
   * inventory service does not answer in time (the order is then `failed`, its stock given back).
   */
  @Post('orders')
  @HttpCode(201)
  create(@Body() dto: CreateOrderDto, @CurrentUser() user: PublicUser, @Req() req: { id?: unknown }): Promise<Order> {
    // The request id of the logs (X-Request-Id or generated) travels to the consumers as the messages' trace id.
    return this.orders.create(dto, user.id, typeof req.id === 'string' ? req.id : undefined);
  }

  /**
   * One of my orders: `status` (`pending` → `confirmed`, or `expired` by the clean-up job) and `remindedAt` (set
   * when its reminder was sent): 200, 404, 400 on a bad id.
   */
  @Get('orders/:id')
  async get(
    @Param('id', new ParseIntPipe({ errorHttpStatusCode: 400 })) id: number,
    @CurrentUser() user: PublicUser,
  ): Promise<Order> {
    const order = id > 0 && id < 2 ** 31 ? await this.orders.findById(id) : undefined;
    if (!order || order.userId !== user.id) throw new NotFoundException('order not found');
    return order;
  }

  /**
   * Server-Sent Events: my `order.*` events (`order.created`, `order.confirmed`) as they happen. The stream opens
   * only once the Redis subscription is live (503 before any header when Redis is down) and starts with `ready`:
   * nothing published after it is missed.
   */
  @Sse('events')
  async events(@CurrentUser() user: PublicUser, @SseSignal() signal: AbortSignal): Promise<Observable<MessageEvent>> {
    const envelopes = await this.bus.listen<Partial<OrderCreatedEvent>>('order.*', { pattern: true, signal });
    return envelopes.pipe(
      filter((e) => e.payload?.userId === user.id),
      map((e): MessageEvent => ({ id: e.id, type: e.type, data: e })),
      startWith<MessageEvent>({ type: 'ready', data: { userId: user.id } }),
    );
  }
}
