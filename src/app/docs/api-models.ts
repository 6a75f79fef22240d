import { ApiProperty } from '@nestjs/swagger';

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

/** Body of `POST /auth/login` (read by the passport-local guard, so it is described here). */
export class LoginDto {
  @ApiProperty({ example: 'demo', maxLength: 128 })
  username!: string;

  @ApiProperty({ example: 'demo-password', maxLength: 1024, format: 'password' })
  password!: string;
}
