/**
 * PostgreSQL for the reference-service suites: a fresh database per app (or per group of apps that share one),
 * dropped afterwards.
 *
 * Where the databases are made: `PG_ADMIN_URL` (or `DATABASE_URL`), a PostgreSQL server the tests may create
 * databases on; when neither is set, the e2e global setup starts the embedded server (PGlite over the wire
 * protocol, test/support/pglite-server/) and points `PG_ADMIN_URL` at it, so a machine with nothing but Node
 * and redis-server runs every suite.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { Client } from 'pg';
import { reapWithThisProcess } from './redis-harness';

const ROOT = join(__dirname, '..', '..');

/** Which PostgreSQL this run's suites use: set by the global setup (`pglite` or `postgres`). */
export type TestDatabaseKind = 'pglite' | 'postgres';

/** A running embedded server (test/support/pglite-server/main.ts in a child process). */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: CREATE/DROP DATABASE here. */
  adminUrl: string;
  /** OS process id of the server. */
  pid: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL server on a free port and waits until it listens (its first database is made
 * in the background: the first CREATE DATABASE may take a few seconds). The harness's reaper kills it if this
 * process dies first; it also exits by itself when this process's end of its standard input closes.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const child = spawn(
    process.execPath,
    ['-r', join(ROOT, 'scripts', 'swc-register.cjs'), join(__dirname, 'pglite-server', 'main.ts')],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error('could not start the embedded PostgreSQL server');
  reapWithThisProcess(child.pid);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL server exited (${code}): ${stderr}`)));
  });
  // Do not keep this process alive for the server's sake.
  for (const stream of [child.stdin, child.stdout, child.stderr] as Array<Writable | Readable>) {
    (stream as unknown as { unref?: () => void }).unref?.();
  }
  child.unref();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Referenced again while we wait: with nothing else pending (Jest's global teardown) an unreferenced child
        // would let Node exit at once, with exit code 0, before Jest sets a failed run's exit code.
        child.ref();
        child.kill('SIGTERM');
      }
      await exited;
    },
  };
}

/** The admin URL the suites create databases on (`PG_ADMIN_URL`, else `DATABASE_URL`). */
export function testDatabaseAdminUrl(): string {
  const url = process.env.PG_ADMIN_URL || process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'No PostgreSQL for the tests: the e2e global setup (test/support/global-setup.ts) starts one; ' +
        'or set PG_ADMIN_URL=postgres://user@host:port/postgres',
    );
  }
  return url;
}

async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: testDatabaseAdminUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database: its URL, and `drop()` which removes it (closing its connections first). */
export interface TestDatabase {
  /** Connection string for DATABASE_URL. */
  url: string;
  /** DROP DATABASE ... WITH (FORCE). */
  drop(): Promise<void>;
}

/** Creates a new, empty database with a unique name on this run's PostgreSQL (see the file header). */
export async function createTestDatabase(label = 'app'): Promise<TestDatabase> {
  const name = `nrk_${label}_${process.pid}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
