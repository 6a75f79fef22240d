export { InventoryModule } from './inventory.module';
export { InventoryApiModule } from './inventory-api.module';
export { InventoryRpcModule } from './inventory-rpc.module';
export { InventoryService, type InventoryItem } from './inventory.service';
export { InsufficientStockError, InventoryNotFoundError, StaleFenceError } from './inventory.errors';
export * from './inventory.transport';
