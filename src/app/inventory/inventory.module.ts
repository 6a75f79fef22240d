import { Module } from '@nestjs/common';
import { InventoryService } from './inventory.service';

/** Stock per SKU, reserved under distributed locks with fencing tokens (no routes: see InventoryApiModule). */
@Module({ providers: [InventoryService], exports: [InventoryService] })
export class InventoryModule {}
