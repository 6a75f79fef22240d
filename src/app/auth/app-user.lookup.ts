import { Injectable } from '@nestjs/common';
import { SessionUserLookup } from '../../index';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../users/password';
import type { PublicUser } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/** The reference service's users for the session module: scrypt check with equal timing for unknown users. */
@Injectable()
export class AppUserLookup extends SessionUserLookup<PublicUser> {
  constructor(private readonly users: UsersService) {
    super();
  }

  /** The public user (never the hash) when the password matches; null otherwise, in the same time either way. */
  async validateCredentials(username: string, password: string): Promise<PublicUser | null> {
    const found = await this.users.findByUsernameWithHash(username);
    const ok = await verifyPassword(password, found?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!found || !ok) return null;
    const { passwordHash: _hash, ...user } = found;
    return user;
  }

  /** The user of a session, or null when deleted (or the id is not a database id). */
  async findById(id: string): Promise<PublicUser | null> {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n <= 0) return null;
    return this.users.findById(n);
  }

  /** The database id. */
  getId(user: PublicUser): number {
    return user.id;
  }
}
