/** A user as the API shows it: never the password hash. */
export interface PublicUser {
  /** Database id. */
  id: number;
  /** Unique login name. */
  username: string;
  /** Name shown to others. */
  displayName: string;
  /** E-mail address. */
  email: string;
  /** Creation time, ISO 8601. */
  createdAt: string;
}

/** A user row with the password hash, for authentication only. */
export interface UserWithHash extends PublicUser {
  /** `scrypt$...` hash. */
  passwordHash: string;
}

/** Row shape of the `users` table. */
export interface UserRow {
  id: number;
  username: string;
  display_name: string;
  email: string;
  password_hash: string;
  created_at: Date | string;
}

/** Maps a row to the public shape. */
export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
