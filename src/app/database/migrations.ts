/** One schema change, applied once at startup in array order (recorded in `schema_migrations`). */
export interface Migration {
  /** Unique, sortable id, e.g. `001_users`. */
  id: string;
  /** SQL run in one transaction; the same text on PostgreSQL and PGlite. */
  sql: string;
}

/** Every migration of the reference service, in order. Features append theirs. */
export const MIGRATIONS: Migration[] = [
  {
    id: '001_users',
    sql: `CREATE TABLE IF NOT EXISTS users (
      id SERIAL PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      display_name TEXT NOT NULL,
      email TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
];
