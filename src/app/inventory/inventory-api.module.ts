import { Module } from '@nestjs/common';
import { InventoryController } from './inventory.controller';
import { InventoryModule } from './inventory.module';

/** The inventory's HTTP routes in the API: `POST /inventory`, `GET /inventory/:sku`, `POST /inventory/:sku/reserve`. */
@Module({ imports: [InventoryModule], controllers: [InventoryController] })
export class InventoryApiModule {}
