/**
 * Boots the reference service (AppModule + configureApp + startServices, exactly as main.ts) in the test process,
 * with the environment given. Unless DATABASE_URL is given, each app gets a fresh database (test-database.ts:
 * on the embedded PostgreSQL server, or on PG_ADMIN_URL's), dropped on close. The app reaches it through `pg`:
 * PGlite's WASM loader needs ESM dynamic import, which Jest's CommonJS runtime does not offer, so the embedded
 * engine runs in its own process.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app/app.module';
import { configureApp } from '../../src/app/app.setup';
import { startServices } from '../../src/app/orders/orders.setup';
import { createTestDatabase } from './test-database';

/** A running reference service and how to stop it. */
export interface BootedApp {
  /** The Nest application (initialised; `listen()` it for a real port, or use `getHttpServer()` with supertest). */
  app: INestApplication;
  /** Closes the app, restores the environment, removes the temp data dir. */
  close(): Promise<void>;
}

/** The boot in progress: boots run one at a time, since each sets process.env for the time of its creation. */
let booting: Promise<unknown> = Promise.resolve();

/**
 * Creates and initialises the reference service with `env` set in process.env for the time of creation. Calls made
 * together (`Promise.all`) boot one after the other, so that no app reads another's environment.
 */
export function bootApp(
  env: Record<string, string | undefined>,
  options: { listen?: boolean } = {},
): Promise<BootedApp> {
  const next = booting.then(() => bootOne(env, options));
  booting = next.catch(() => undefined);
  return next;
}

async function bootOne(env: Record<string, string | undefined>, options: { listen?: boolean }): Promise<BootedApp> {
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
    await startServices(app); // the inventory and notifications services, as main.ts starts them
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
