import { execFileSync } from 'node:child_process';
import { startEmbeddedPostgres, type EmbeddedPostgres, type TestDatabaseKind } from './test-database';

/** The embedded server this run started, for the global teardown (Jest shares this context with it). */
declare global {
  var __nrkEmbeddedPostgres: EmbeddedPostgres | undefined;
}

/**
 * Before the e2e suites: fails early, with a clear message, when redis-server is not installed; gives the
 * reference-service suites a PostgreSQL: `PG_ADMIN_URL` / `DATABASE_URL` when set, else the embedded server
 * (PGlite over the wire protocol), whose admin URL goes to the test processes in `PG_ADMIN_URL`.
 */
export default async function globalSetup(): Promise<void> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('The e2e tests need redis-server on PATH (apt-get install redis-server).');
  }
  let kind: TestDatabaseKind = 'postgres';
  if (!process.env.PG_ADMIN_URL && !process.env.DATABASE_URL) {
    const embedded = await startEmbeddedPostgres();
    globalThis.__nrkEmbeddedPostgres = embedded;
    process.env.PG_ADMIN_URL = embedded.adminUrl;
    kind = 'pglite';
  }
  process.env.NRK_TEST_DATABASE = kind;
}
