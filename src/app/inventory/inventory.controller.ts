import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ReserveDto, SKU_PATTERN, UpsertInventoryDto } from './dto/inventory.dto';
import { InventoryNotFoundError } from './inventory.errors';
import { InventoryService, type InventoryItem } from './inventory.service';

function skuParam(sku: string): string {
  if (!SKU_PATTERN.test(sku)) {
    throw new BadRequestException('sku must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
  }
  return sku;
}

/** Stock per SKU; reservations are read-modify-writes under a distributed lock, fenced in the database. */
@Controller('inventory')
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  /** Creates a SKU or replaces its stock: 201 `{sku, stock}`; 400 on a bad body. */
  @Post()
  @HttpCode(201)
  upsert(@Body() dto: UpsertInventoryDto): Promise<InventoryItem> {
    return this.inventory.upsert(dto.sku, dto.stock);
  }

  /** Stock of a SKU: 200 `{sku, stock}`, 404, 400 on a bad SKU. */
  @Get(':sku')
  async get(@Param('sku') sku: string): Promise<InventoryItem> {
    const item = await this.inventory.find(skuParam(sku));
    if (!item) throw new InventoryNotFoundError(sku);
    return item;
  }

  /**
   * Reserves `qty` units: 200 `{sku, stock}` (stock left); 404 unknown SKU; 409 short of stock; 423 with
   * Retry-After when the SKU's lock stays busy for LOCK_WAIT_MS; 400 on bad input; 503 when Redis is down.
   */
  @Post(':sku/reserve')
  @HttpCode(200)
  reserve(@Param('sku') sku: string, @Body() dto: ReserveDto): Promise<InventoryItem> {
    return this.inventory.reserve(skuParam(sku), dto.qty);
  }
}
