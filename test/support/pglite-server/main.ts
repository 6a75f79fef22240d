/**
 * The embedded PostgreSQL of the e2e tests: PGlite (the engine `npm start` embeds) served over the PostgreSQL wire
 * protocol on 127.0.0.1, so that the reference service reaches it through `pg` like any PostgreSQL server, and
 * several service instances (and a worker process) can share one database. One PGlite instance per database;
 * `CREATE DATABASE` / `DROP DATABASE` on the `postgres` database make and remove them.
 *
 * Run as a child process (test/support/test-database.ts starts it): `node -r ./scripts/swc-register.cjs
 * test/support/pglite-server/main.ts`. Prints `{"port":N}` on one line once it listens; exits on SIGTERM/SIGINT
 * or when its standard input closes (the process that started it is gone).
 */
import { createServer } from 'node:net';
import { Catalog } from './catalog';
import { Connection } from './connection';

async function main(): Promise<void> {
  const catalog = new Catalog();
  const connections = new Set<Connection>();
  const server = createServer((socket) => new Connection(socket, catalog, connections));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const c of [...connections]) c.close();
    // Closing PGlite instances only frees memory the exit frees anyway: do not let it delay the exit.
    setTimeout(() => process.exit(0), 1_000).unref();
    catalog.closeAll().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`pglite-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
