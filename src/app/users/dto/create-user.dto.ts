import { IsEmail, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** Body of `POST /users`. */
export class CreateUserDto {
  /** 3–32 characters: letters, digits, `_`, `.`, `-`. */
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{3,32}$/, { message: 'username must be 3-32 letters, digits, "_", "." or "-"' })
  username!: string;

  /** 8–128 characters. */
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  password!: string;

  /** Name shown to others, 1–64 characters. */
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  displayName!: string;

  /** A valid e-mail address. */
  @IsEmail()
  @MaxLength(254)
  email!: string;
}
