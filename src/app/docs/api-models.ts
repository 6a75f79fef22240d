import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, type OrderStatus } from '../orders/order.entity';

/** A user as the API shows it (never the password hash). */
export class UserDto {
  @ApiProperty({ example: 1 })
  id!: number;

  @ApiProperty({ example: 'demo' })
  username!: string;

  @ApiProperty({ example: 'Demo User' })
  displayName!: string;

  @ApiProperty({ example: 'demo@example.com', format: 'email' })
  email!: string;

  @ApiProperty({ example: '2026-11-25T16:00:00.000Z', format: 'date-time' })
  createdAt!: string;
}

/** Body of `POST /auth/login`: LocalLoginGuard reads and validates it (no `@Body()`), so the document gets it from here. */
export class LoginDto {
  @ApiProperty({ example: 'demo', maxLength: 128 })
  username!: string;

  @ApiProperty({ example: 'demo-password', maxLength: 1024, format: 'password' })
  password!: string;
}

/** A product of the catalog. */
export class ProductDto {
  @ApiProperty({ example: 42 })
  id!: number;

  @ApiProperty({ example: 'SKU-0000042' })
  sku!: string;

  @ApiProperty({ example: 'Smart Cameras 42' })
  name!: string;

  @ApiProperty({ example: 'cameras' })
  category!: string;

  @ApiProperty({ example: 'Brand 15' })
  brand!: string;

  @ApiProperty({ example: 33297, description: 'Price in cents' })
  priceCents!: number;

  @ApiProperty({ example: 4.3, minimum: 0, maximum: 5 })
  rating!: number;

  @ApiProperty({ example: 66, description: 'Units in stock' })
  stock!: number;
}

/** Products of one brand among the matches of a search. */
export class BrandCountDto {
  @ApiProperty({ example: 'Brand 07' })
  brand!: string;

  @ApiProperty({ example: 131 })
  count!: number;
}

/** Price range of the matches of a search, cents. */
export class PriceRangeDto {
  @ApiProperty({ example: 99 })
  min!: number;

  @ApiProperty({ example: 25012 })
  avg!: number;

  @ApiProperty({ example: 49995 })
  max!: number;
}

/** Answer of `GET /catalog/search`: aggregates over every match plus the first items. */
export class ProductSearchResultDto {
  @ApiProperty({ example: 5000, description: 'Matching products' })
  total!: number;

  @ApiProperty({ type: PriceRangeDto, nullable: true, description: 'null without matches' })
  priceCents!: PriceRangeDto | null;

  @ApiProperty({ example: 300512, description: 'Units in stock over every match' })
  unitsInStock!: number;

  @ApiProperty({ type: [BrandCountDto], description: 'The five brands with the most matches' })
  topBrands!: BrandCountDto[];

  @ApiProperty({ type: [ProductDto], description: 'The first `limit` matches in the requested order' })
  items!: ProductDto[];
}

/** An order as `POST /orders` and `GET /orders/:id` answer it. */
export class OrderDto {
  @ApiProperty({ example: 7 })
  id!: number;

  @ApiProperty({ example: 1, nullable: true, type: Number })
  userId!: number | null;

  @ApiProperty({ example: 'ABC-1' })
  sku!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: 1000 })
  qty!: number;

  @ApiProperty({
    enum: ORDER_STATUSES,
    example: 'pending',
    description:
      '`reserving` while the inventory service reserves its stock; `pending` once reserved and announced; ' +
      '`confirmed` by the notifications service; `expired` by the clean-up job after ORDER_PENDING_TTL_MS; ' +
      '`failed` when the reservation did not complete (its stock, if any was held, is given back)',
  })
  status!: OrderStatus;

  @ApiProperty({
    example: '2026-11-25T16:30:00.000Z',
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'When the order reminder (REMINDER_DELAY_MS after the order) was sent; null before',
  })
  remindedAt!: string | null;

  @ApiProperty({ example: '2026-11-25T16:00:00.000Z', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ example: '2026-11-25T16:00:01.000Z', format: 'date-time' })
  updatedAt!: string;
}
