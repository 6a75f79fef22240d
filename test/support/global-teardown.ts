/**
 * After the e2e suites: stops the embedded PostgreSQL server if the global setup started one. Harness processes
 * are killed by their tests, or by the reaper when a test process dies.
 */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__nrkEmbeddedPostgres?.stop();
  globalThis.__nrkEmbeddedPostgres = undefined;
}
