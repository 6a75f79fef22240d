import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:`port` (a listen attempt succeeds). */
async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Offset of a cluster node's bus port from its client port (redis-server's default). */
export const CLUSTER_BUS_PORT_OFFSET = 10_000;

/**
 * A free port for a cluster node: its cluster bus listens on port + 10000, which must exist (≤ 65535) and be
 * free too. (A plain free port is above 55535 about one time in five, and redis-server then refuses to start.)
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    const bus = port + CLUSTER_BUS_PORT_OFFSET;
    if (bus <= 65_535 && (await portIsFree(bus))) return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
}
