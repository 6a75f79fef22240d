export { InventoryModule } from './inventory.module';
export { InventoryService, type InventoryItem } from './inventory.service';
export { InsufficientStockError, InventoryNotFoundError, StaleFenceError } from './inventory.errors';
