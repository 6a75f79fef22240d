import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { CacheEvict } from '../../index';
import { DatabaseService } from '../database/database.service';
import type { CreateUserDto } from './dto/create-user.dto';
import type { UpdateUserDto } from './dto/update-user.dto';
import { hashPassword } from './password';
import { toPublicUser, type PublicUser, type UserRow, type UserWithHash } from './user.entity';

/** Demo account created on the first start of an empty database (README gives these credentials). */
export const DEMO_USER = {
  username: 'demo',
  password: 'demo-password',
  displayName: 'Demo User',
  email: 'demo@example.com',
};

/** Users in the SQL database. */
@Injectable()
export class UsersService {
  private readonly logger = new Logger('Users');

  constructor(private readonly db: DatabaseService) {}

  /** Creates a user; ConflictException (409) when the username is taken. */
  async create(dto: CreateUserDto): Promise<PublicUser> {
    const hash = await hashPassword(dto.password);
    const r = await this.db.query<UserRow>(
      `INSERT INTO users (username, display_name, email, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO NOTHING RETURNING *`,
      [dto.username, dto.displayName, dto.email, hash],
    );
    if (r.rows.length === 0) throw new ConflictException(`username "${dto.username}" is taken`);
    return toPublicUser(r.rows[0]);
  }

  /** The user with this id, or null. */
  async findById(id: number): Promise<PublicUser | null> {
    const r = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return r.rows[0] ? toPublicUser(r.rows[0]) : null;
  }

  /**
   * Changes display name and/or e-mail; the updated user, or null when there is none with this id.
   * Evicts the cached `user:{id}` once the update succeeded (here and, through the near cache's
   * invalidation messages, in every instance).
   */
  @CacheEvict({ keys: (id: number) => [`user:${id}`] })
  async update(id: number, dto: UpdateUserDto): Promise<PublicUser | null> {
    const r = await this.db.query<UserRow>(
      `UPDATE users SET display_name = COALESCE($2, display_name), email = COALESCE($3, email)
       WHERE id = $1 RETURNING *`,
      [id, dto.displayName ?? null, dto.email ?? null],
    );
    return r.rows[0] ? toPublicUser(r.rows[0]) : null;
  }

  /** Deletes the user; false when there was none. Evicts the cached `user:{id}` once it succeeded. */
  @CacheEvict({ keys: (id: number) => [`user:${id}`] })
  async remove(id: number): Promise<boolean> {
    const r = await this.db.query('DELETE FROM users WHERE id = $1', [id]);
    return r.rowCount > 0;
  }

  /** The user with this username including the password hash (for login only), or null. */
  async findByUsernameWithHash(username: string): Promise<UserWithHash | null> {
    const r = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    const row = r.rows[0];
    return row ? { ...toPublicUser(row), passwordHash: row.password_hash } : null;
  }

  /** The user's role (`user` or `admin`), or null when there is no such user. */
  async roleOf(id: number): Promise<string | null> {
    const r = await this.db.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [id]);
    return r.rows[0]?.role ?? null;
  }

  /** Gives the `admin` role to the users with these usernames; resolves how many rows changed. */
  async grantAdmin(usernames: readonly string[]): Promise<number> {
    if (usernames.length === 0) return 0;
    const r = await this.db.query(`UPDATE users SET role = 'admin' WHERE role <> 'admin' AND username = ANY($1)`, [
      [...usernames],
    ]);
    return r.rowCount;
  }

  /** Creates the demo user when the table is empty. */
  async ensureDemoUser(): Promise<void> {
    const count = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    if (Number(count.rows[0].n) > 0) return;
    await this.create(DEMO_USER).catch((err: unknown) => {
      if (!(err instanceof ConflictException)) throw err;
    });
    this.logger.log(`Created demo user "${DEMO_USER.username}"`);
  }
}
