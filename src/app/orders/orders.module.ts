import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { OrderExpiryJob } from './order-expiry.job';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

/** `POST /orders`, `GET /orders/:id`, `GET /events` (SSE). Needs MessagingModule, LockModule and the session guard;
 * orders for SKUs kept in the inventory reserve their stock. The clean-up job (`OrderExpiryJob`, RedisScheduleModule)
 * expires orders left pending. */
@Module({
  imports: [InventoryModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrderExpiryJob],
  exports: [OrdersService],
})
export class OrdersModule {}
