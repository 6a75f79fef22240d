import { Module } from '@nestjs/common';
import { RedisStreamsTransportModule } from '../../index';
import { serviceServerProvider } from '../common/service-server';
import { InventoryModule } from './inventory.module';
import { InventoryRpcController } from './inventory-rpc.controller';
import { INVENTORY_SERVER, INVENTORY_SERVICE, INVENTORY_TRANSPORT } from './inventory.transport';

/**
 * The inventory service on the transport: its server (service `inventory`, provided as INVENTORY_SERVER) and its
 * `inventory.reserve` / `inventory.release` handlers. Served where `startServices` connects it: `npm start` (unless
 * INVENTORY_SERVER=false) and `npm run start:inventory`.
 */
@Module({
  imports: [InventoryModule, RedisStreamsTransportModule.forRoot({ service: INVENTORY_SERVICE, isGlobal: false })],
  controllers: [InventoryRpcController],
  providers: [serviceServerProvider(INVENTORY_SERVER, INVENTORY_TRANSPORT)],
  exports: [INVENTORY_SERVER],
})
export class InventoryRpcModule {}
