import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

/** Body of `POST /orders`. */
export class CreateOrderDto {
  /** Stock keeping unit: 1–64 letters, digits, `-`, `_`, `.`. */
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'sku must be 1-64 letters, digits, ".", "_" or "-"' })
  sku!: string;

  /** Quantity, 1–1000. */
  @IsInt()
  @Min(1)
  @Max(1000)
  qty!: number;
}
