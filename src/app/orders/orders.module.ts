import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RedisStreamsTransportModule } from '../../index';
import type { AppConfig } from '../config/app.config';
import { INVENTORY_SERVICE } from '../inventory/inventory.transport';
import { InventoryClient } from './inventory.client';
import { OrderExpiryJob } from './order-expiry.job';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

/**
 * `POST /orders`, `GET /orders/:id`, `GET /events` (SSE). Needs MessagingModule and the session guard. Its
 * transport client (`send()` to the `inventory` service, not global) reserves and releases orders' stock; the
 * clean-up job (`OrderExpiryJob`, RedisScheduleModule) expires orders left pending and releases what ended orders held.
 */
@Module({
  imports: [
    RedisStreamsTransportModule.forRootAsync({
      isGlobal: false,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        sendTo: INVENTORY_SERVICE,
        requestTimeoutMs: Number(config.get('ORDER_RESERVE_TIMEOUT_MS', { infer: true })),
      }),
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService, InventoryClient, OrderExpiryJob],
  exports: [OrdersService],
})
export class OrdersModule {}
