/**
 * The reference service in the test process, for e2e tests of HTTP routes.
 *
 * ```ts
 * const redis = await startRedis();
 * const t = await createTestApp({ redisUrl: redis.url, env: { CACHE_TTL_MS: '500' } });
 * await t.http.get('/health').expect(200);
 * await t.close(); // closes the app, drops its database, restores process.env
 * ```
 * The app is AppModule + configureApp(), exactly as main.ts builds it; its environment is `env` plus REDIS_URL
 * (or `redisEnv`, e.g. a TestRedis's `env` for either topology; set only while the app is created: configuration
 * is validated then). Without DATABASE_URL in `env` each app
 * gets a fresh database (see app-boot.ts and test-database.ts). Create apps one at a time.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { bootApp } from './app-boot';

/** Options of {@link createTestApp}. */
export interface TestAppOptions {
  /** Redis the app uses (REDIS_URL), usually a harness server's `.url`. Give this or `redisEnv`. */
  redisUrl?: string;
  /** Redis variables instead of `redisUrl`: a TestRedis's `env` (`REDIS_URL` or `REDIS_CLUSTER_NODES`). */
  redisEnv?: Readonly<Record<string, string>>;
  /** More environment variables (undefined removes one for the time of creation). */
  env?: Record<string, string | undefined>;
  /** Also listen on a real 127.0.0.1 port (default false: supertest binds one per request). */
  listen?: boolean;
}

/** A running test app. */
export interface TestApp {
  /** The initialised Nest application. */
  app: INestApplication;
  /** supertest bound to the app's HTTP server: `t.http.get('/users/1').expect(200)`. */
  http: ReturnType<typeof request>;
  /** Closes the app, drops its database, restores the environment. */
  close(): Promise<void>;
}

/** Creates and initialises the reference service against `redisUrl` / `redisEnv`; rejects with the startup error. */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const redisEnv = options.redisEnv ?? (options.redisUrl !== undefined ? { REDIS_URL: options.redisUrl } : undefined);
  if (!redisEnv) throw new Error('createTestApp: give redisUrl or redisEnv');
  const booted = await bootApp({ ...options.env, ...redisEnv }, { listen: options.listen });
  return { app: booted.app, http: request(booted.app.getHttpServer()), close: booted.close };
}
