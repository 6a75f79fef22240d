/**
 * What the reference-service suites rely on from their PostgreSQL (test/support/test-database.ts), on whichever
 * this run uses: the embedded server (PGlite over the wire protocol) by default, or PG_ADMIN_URL's server.
 * Two `pg` pools of 10 on one database, as two service instances have: concurrent parameterized queries each get
 * their own answer, transactions commit or roll back as a whole, a client that disconnects inside a transaction
 * leaves nothing behind; databases are separate, and a dropped one is gone.
 */
import { Client, Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from './support/test-database';

describe(`test PostgreSQL (${process.env.NRK_TEST_DATABASE ?? 'unknown'})`, () => {
  let first: TestDatabase;
  let second: TestDatabase;
  let pools: Pool[] = [];

  beforeAll(async () => {
    [first, second] = [await createTestDatabase('tdb'), await createTestDatabase('tdb')];
    pools = [0, 1].map(() => {
      const pool = new Pool({ connectionString: first.url, max: 10 });
      // As the service's own pool does: an idle client the server closes (a restart, an administrator) is
      // dropped and replaced by the pool; without a listener Node would throw it as an unhandled 'error'.
      pool.on('error', (err) => process.stderr.write(`test pool: idle client closed (${err.message})\n`));
      return pool;
    });
    await pools[0].query('CREATE TABLE items (id INT PRIMARY KEY, label TEXT NOT NULL)');
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await first?.drop();
    await second?.drop();
  });

  it('two pools of 10: concurrent queries, transactions and errors never mix', async () => {
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const pool = pools[i % 2];
        if (i % 3 === 0) await pool.query('INSERT INTO items (id, label) VALUES ($1, $2)', [i, `item-${i}`]);
        const r = await pool.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `s-${i}`]);
        if (r.rows[0]?.n !== i || r.rows[0]?.s !== `s-${i}`) wrong.push(`${i}: ${JSON.stringify(r.rows)}`);
        if (i % 7 === 0) await expect(pool.query('SELECT 1 / $1::int', [0])).rejects.toThrow(/division by zero/);
        if (i % 10 === 0) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO items (id, label) VALUES ($1, $2)', [10_000 + i, 'rolled back']);
            await new Promise((r) => setTimeout(r, 2));
            await c.query('ROLLBACK');
          } finally {
            c.release();
          }
        }
      }),
    );
    expect(wrong).toEqual([]);
    const count = await pools[1].query<{ n: number }>('SELECT count(*)::int AS n FROM items');
    expect(count.rows[0].n).toBe(100);
  });

  it('a client that disconnects inside a transaction leaves nothing behind, and blocks nobody', async () => {
    const leaving = new Client({ connectionString: first.url });
    leaving.on('error', () => undefined);
    await leaving.connect();
    await leaving.query('BEGIN');
    await leaving.query('INSERT INTO items (id, label) VALUES (-1, $1)', ['never committed']);
    await leaving.end();
    const r = await pools[0].query('SELECT id FROM items WHERE id = -1');
    expect(r.rows).toEqual([]);
  });

  it('keeps databases apart and drops them', async () => {
    const other = new Client({ connectionString: second.url });
    await other.connect();
    try {
      const tables = await other.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'items'`);
      expect(tables.rows).toEqual([]);
    } finally {
      await other.end();
    }
    await second.drop();
    const gone = new Client({ connectionString: second.url });
    gone.on('error', () => undefined);
    await expect(gone.connect()).rejects.toThrow(/does not exist/);
  });
});
