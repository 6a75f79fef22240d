import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { CATEGORIES, type Category, type ProductSort } from '../product.entity';

/** Highest price a search or a product may name, cents. */
export const MAX_PRICE_CENTS = 100_000_000;
/** Most items one search returns. */
export const MAX_SEARCH_LIMIT = 50;
/** Orders a search accepts. */
export const SORTS: readonly ProductSort[] = ['rating', 'price', '-price'];

/** A query value of digits → its number; anything else is left for the validators to refuse with a clear message. */
const digitsToInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
const trueFalse = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

/** Query of `GET /catalog/search`; every field optional. */
export class SearchProductsDto {
  @ApiPropertyOptional({ enum: CATEGORIES, description: 'Only this category (default: every category)' })
  @IsOptional()
  @IsIn(CATEGORIES, { message: `category must be one of: ${CATEGORIES.join(', ')}` })
  category?: Category;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_PRICE_CENTS,
    default: 0,
    description: 'Lowest price, cents',
  })
  @IsOptional()
  @Transform(digitsToInt)
  @IsInt({ message: 'minPriceCents must be a whole number of cents' })
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  minPriceCents?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_PRICE_CENTS,
    default: MAX_PRICE_CENTS,
    description: 'Highest price, cents',
  })
  @IsOptional()
  @Transform(digitsToInt)
  @IsInt({ message: 'maxPriceCents must be a whole number of cents' })
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  maxPriceCents?: number;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Only products in stock' })
  @IsOptional()
  @Transform(trueFalse)
  @IsBoolean({ message: 'inStock must be true or false' })
  inStock?: boolean;

  @ApiPropertyOptional({ enum: SORTS, default: 'rating', description: 'Best rated first, cheapest or dearest first' })
  @IsOptional()
  @IsIn(SORTS, { message: `sort must be one of: ${SORTS.join(', ')}` })
  sort?: ProductSort;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_SEARCH_LIMIT,
    default: 10,
    description: 'Items returned',
  })
  @IsOptional()
  @Transform(digitsToInt)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(MAX_SEARCH_LIMIT)
  limit?: number;
}
