import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { MIGRATIONS } from './migrations';

/** Rows and count of one SQL statement. */
export interface QueryResult<T> {
  /** Returned rows. */
  rows: T[];
  /** Rows affected (or returned). */
  rowCount: number;
}

/** Something that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterized statement (`$1`, `$2`...). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

/** The part of a pg Pool or PoolClient we use. */
interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

interface Backend extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Where the reference service keeps its data. */
export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent, an embedded PGlite database is used. */
  url?: string;
  /** Data directory of the embedded PGlite database (ignored with `url`). */
  dataDir: string;
}

/**
 * The reference service's SQL database: PostgreSQL through `pg` when a URL is given, otherwise an
 * embedded PGlite (PostgreSQL compiled to WASM) under a data directory. Same SQL and migrations for both.
 */
@Injectable()
export class DatabaseService implements Queryable, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private backend: Backend | undefined;
  /** `postgres` or `pglite`, once connected. */
  kind: 'postgres' | 'pglite' = 'pglite';
  /** Human-readable location (no password), for logs. */
  location = '';

  /** Opens the database and applies pending migrations. */
  async connect(options: DatabaseOptions): Promise<void> {
    if (options.url) {
      const { Pool } = await import('pg');
      const pool = new Pool({ connectionString: options.url, max: 10 });
      pool.on('error', (err) => this.logger.warn(`PostgreSQL pool error: ${err.message}`));
      const run = async <T>(q: PgQueryable, sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
        const r = await q.query(sql, params);
        return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
      };
      this.backend = {
        query: (sql, params) => run(pool, sql, params),
        transaction: async (fn) => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const result = await fn({ query: (sql, params) => run(client, sql, params) });
            await client.query('COMMIT');
            return result;
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          } finally {
            client.release();
          }
        },
        close: () => pool.end(),
      };
      this.kind = 'postgres';
      const u = new URL(options.url);
      this.location = `postgres://${u.host}${u.pathname}`;
    } else {
      mkdirSync(options.dataDir, { recursive: true });
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(options.dataDir);
      const run = async <T>(q: Pick<typeof db, 'query'>, sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
        const r = await q.query<T>(sql, params);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
      };
      this.backend = {
        query: (sql, params) => run(db, sql, params),
        transaction: (fn) => db.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) })),
        close: () => db.close(),
      };
      this.kind = 'pglite';
      this.location = `pglite:${resolve(options.dataDir)}`;
    }
    await this.migrate();
    this.logger.log(`Database: ${this.kind} at ${this.location}`);
  }

  /** Runs one parameterized statement. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return this.ready().query<T>(sql, params);
  }

  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.ready().transaction(fn);
  }

  /** Closes the pool or the embedded database. */
  async onApplicationShutdown(): Promise<void> {
    await this.backend?.close().catch(() => undefined);
    this.backend = undefined;
  }

  private ready(): Backend {
    if (!this.backend) throw new Error('Database is not connected');
    return this.backend;
  }

  private async migrate(): Promise<void> {
    const db = this.ready();
    await db.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    // One instance migrates at a time when several share a PostgreSQL database.
    await db.transaction(async (tx) => {
      if (this.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(727274)');
      const applied = new Set(
        (await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
      );
      for (const m of MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await tx.query(m.sql);
        await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        this.logger.log(`Applied migration ${m.id}`);
      }
    });
  }
}
