import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_PRICE_CENTS } from './search-products.dto';

/** Most units one product may hold. */
export const MAX_PRODUCT_STOCK = 1_000_000;

/** Body of `PATCH /catalog/products/:id`: the fields to change (at least one). */
export class UpdateProductDto {
  /** New price, cents. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  priceCents?: number;

  /** New stock, units. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRODUCT_STOCK)
  stock?: number;
}
