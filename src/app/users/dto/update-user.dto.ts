import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** Body of `PATCH /users/:id`: the fields to change (at least one). */
export class UpdateUserDto {
  /** Name shown to others, 1–64 characters. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  displayName?: string;

  /** A valid e-mail address. */
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}
