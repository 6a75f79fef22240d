import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisServer } from './redis-server';
import type { RedisRestartOptions, RedisTopology, RedisTopologyConnection } from './redis-topology.types';
import { sleep } from '../core/deadline';

/**
 * Polls `probe` every `everyMs` until it gives a value other than `false` or `undefined` (a probe that throws gives
 * none), and resolves with it; throws `<what> within <timeoutMs> ms` after `timeoutMs`.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | false | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Runs `fn` on a fresh admin connection to each server, in parallel, and closes the connections. */
export async function eachServer<T>(
  servers: readonly RedisServer[],
  fn: (node: Redis, server: RedisServer) => Promise<T>,
): Promise<T[]> {
  return Promise.all(
    servers.map(async (server) => {
      const c = server.client();
      try {
        return await fn(c, server);
      } finally {
        c.disconnect();
      }
    }),
  );
}

/** Every key matching `pattern` on the servers that are masters now (a replica holds copies). */
export async function scanMasters(servers: readonly RedisServer[], pattern: string): Promise<string[]> {
  const perNode = await eachServer(servers, async (c) => {
    const [role] = (await c.call('ROLE')) as [string, ...unknown[]];
    if (role !== 'master') return [];
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  });
  return perNode.flat();
}

/**
 * Kills `servers` and starts them again with `start`: each writes a snapshot first when the data is kept, and
 * loses any snapshot it has otherwise.
 */
export async function restartServers(
  servers: readonly RedisServer[],
  start: () => Promise<void>,
  options: RedisRestartOptions = {},
): Promise<void> {
  if (options.keepData) await Promise.all(servers.map((s) => s.save()));
  await Promise.all(servers.map((s) => s.kill()));
  if (!options.keepData) for (const s of servers) s.dropSnapshot();
  await start();
}

/** What a cluster and a Sentinel group do the same way over their servers. */
export abstract class RedisServerGroup implements RedisTopology {
  /**
   * @param servers the data servers
   * @param processes every process of the group (the data servers, and sentinels if any)
   */
  constructor(
    readonly servers: readonly RedisServer[],
    protected readonly processes: readonly RedisServer[] = servers,
  ) {}

  abstract readonly connection: RedisTopologyConnection;
  abstract client(options?: Partial<RedisOptions>): Redis | Cluster;

  /** {@inheritDoc RedisTopology.eachNode} */
  eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]> {
    return eachServer(this.servers, fn);
  }

  /** {@inheritDoc RedisTopology.keys} */
  keys(pattern: string): Promise<string[]> {
    return scanMasters(this.servers, pattern);
  }

  /** {@inheritDoc RedisTopology.kill} */
  async kill(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  /** {@inheritDoc RedisTopology.start} */
  async start(): Promise<void> {
    await Promise.all(this.processes.map((s) => s.start()));
  }

  /** {@inheritDoc RedisTopology.restart} */
  restart(options: RedisRestartOptions = {}): Promise<void> {
    return restartServers(this.servers, () => this.start(), options);
  }

  /** {@inheritDoc RedisTopology.pause} */
  pause(): void {
    for (const s of this.servers) s.pause();
  }

  /** {@inheritDoc RedisTopology.resume} */
  resume(): void {
    for (const s of this.servers) s.resume();
  }

  /** {@inheritDoc RedisTopology.stop} */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map((s) => s.stop()));
  }
}
