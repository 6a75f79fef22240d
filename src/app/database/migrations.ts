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
  {
    id: '010_orders',
    sql: `CREATE TABLE IF NOT EXISTS orders (
      id SERIAL PRIMARY KEY,
      user_id INTEGER NULL REFERENCES users(id) ON DELETE SET NULL,
      sku TEXT NOT NULL,
      qty INTEGER NOT NULL CHECK (qty > 0),
      status TEXT NOT NULL DEFAULT 'pending',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
  {
    id: '011_notifications',
    sql: `CREATE TABLE IF NOT EXISTS notifications (
      id SERIAL PRIMARY KEY,
      order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      user_id INTEGER NULL,
      kind TEXT NOT NULL,
      message TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (order_id, kind)
    )`,
  },
  {
    id: '012_orders_reserved',
    // Whether the order took its quantity from the inventory: an expired order gives back only what it took.
    sql: `ALTER TABLE orders ADD COLUMN IF NOT EXISTS reserved BOOLEAN NOT NULL DEFAULT false`,
  },
  {
    id: '013_orders_released',
    // When the inventory confirmed that a failed or expired order holds no stock any more (the clean-up job asks
    // it by order id until it does).
    sql: `ALTER TABLE orders ADD COLUMN IF NOT EXISTS released_at TIMESTAMPTZ NULL`,
  },
  {
    id: '014_orders_reminded',
    // When the order's reminder was recorded (shown as `remindedAt` by GET /orders/:id).
    sql: `ALTER TABLE orders ADD COLUMN IF NOT EXISTS reminded_at TIMESTAMPTZ NULL`,
  },
  {
    id: '020_inventory',
    sql: `CREATE TABLE IF NOT EXISTS inventory (
      sku TEXT PRIMARY KEY,
      stock INTEGER NOT NULL CHECK (stock >= 0),
      fence BIGINT NOT NULL DEFAULT 0,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
  {
    id: '021_inventory_reservations',
    // The inventory service's record of each order's reservation, keyed by the order id: a retried or duplicated
    // reserve request finds the outcome here instead of taking stock twice, and a release with no reservation
    // leaves a `released` row, so that a late reserve request for that order takes nothing.
    sql: `CREATE TABLE IF NOT EXISTS reservations (
      order_id INTEGER PRIMARY KEY,
      sku TEXT NOT NULL,
      qty INTEGER NOT NULL CHECK (qty >= 0),
      status TEXT NOT NULL CHECK (status IN ('held', 'untracked', 'refused', 'released')),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
  {
    id: '030_products',
    sql: `CREATE TABLE IF NOT EXISTS products (
      id INTEGER PRIMARY KEY,
      sku TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      category TEXT NOT NULL,
      brand TEXT NOT NULL,
      price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
      rating_tenths SMALLINT NOT NULL CHECK (rating_tenths BETWEEN 0 AND 50),
      stock INTEGER NOT NULL CHECK (stock >= 0),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
  {
    id: '031_products_category_price',
    sql: `CREATE INDEX IF NOT EXISTS products_category_price ON products (category, price_cents)`,
  },
  {
    id: '040_users_role',
    // `admin` opens the operations page (/admin); ADMIN_USERS grants it to the usernames it lists.
    sql: `ALTER TABLE users ADD COLUMN IF NOT EXISTS role TEXT NOT NULL DEFAULT 'user'`,
  },
];
