/**
 * Boots the reference service (AppModule + configureApp, exactly as main.ts) in the test process,
 * with the environment given. Unless DATABASE_URL is given, each app gets a fresh PostgreSQL database
 * (created on the local server, PG_ADMIN_URL or postgres://root@127.0.0.1:5432/postgres, dropped on close):
 * PGlite's WASM loader needs ESM dynamic import, which Jest's CommonJS runtime does not offer.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppModule } from '../../src/app/app.module';
import { configureApp } from '../../src/app/app.setup';

const ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new empty PostgreSQL database on the local server; returns its URL and a drop function. */
export async function createTestDatabase(label = 'app'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `nrk_${label}_${process.pid}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A running reference service and how to stop it. */
export interface BootedApp {
  /** The Nest application (initialised; `listen()` it for a real port, or use `getHttpServer()` with supertest). */
  app: INestApplication;
  /** Closes the app, restores the environment, removes the temp data dir. */
  close(): Promise<void>;
}

/** Creates and initialises the reference service with `env` set in process.env for the time of creation. */
export async function bootApp(
  env: Record<string, string | undefined>,
  options: { listen?: boolean } = {},
): Promise<BootedApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nrk-app-'));
  const database = env.DATABASE_URL ? undefined : await createTestDatabase();
  const full: Record<string, string | undefined> = { DATA_DIR: dataDir, DATABASE_URL: database?.url, ...env };
  if (database) full.DATABASE_URL = database.url;
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(full)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  let app: INestApplication | undefined;
  try {
    const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = ref.createNestApplication({ logger: ['error'] });
    configureApp(app);
    if (options.listen) await app.listen(0, '127.0.0.1');
    else await app.init();
  } catch (err) {
    await app?.close().catch(() => undefined);
    restore();
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
    throw err;
  }
  const booted = app;
  return {
    app: booted,
    close: async () => {
      await booted.close();
      restore();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}
