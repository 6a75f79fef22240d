import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

/** SKU format: 1-64 letters, digits, `_` or `-`, starting with a letter or digit. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Most units one SKU may hold. */
export const MAX_STOCK = 1_000_000_000;

/** Most units one reservation may take. */
export const MAX_RESERVE_QTY = 1_000_000;

/** Body of `POST /inventory` (create or replace a SKU's stock). */
export class UpsertInventoryDto {
  /** 1-64 letters, digits, `_` or `-`. */
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 letters, digits, "_" or "-", starting with a letter or digit' })
  sku!: string;

  /** Units in stock, an integer 0..1e9. */
  @IsInt()
  @Min(0)
  @Max(MAX_STOCK)
  stock!: number;
}

/** Body of `POST /inventory/:sku/reserve`. */
export class ReserveDto {
  /** Units to take, an integer 1..1e6. */
  @IsInt()
  @Min(1)
  @Max(MAX_RESERVE_QTY)
  qty!: number;
}
