import { Cluster, type RedisOptions } from 'ioredis';
import type { RedisNodeAddress } from '../redis';
import { freeClusterPort } from './free-port';
import { startRedis, type RedisServer } from './redis-server';
import type { RedisTopologyConnection } from './redis-topology.types';
import { RedisServerNotFoundError } from './testing.errors';
import { eachServer, RedisServerGroup, waitUntil } from './topology.helpers';

/** Hash slots of a Redis Cluster. */
const CLUSTER_SLOTS = 16_384;

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /** Number of masters (default 3); the 16384 slots are split evenly between them. */
  masters?: number;
  /** Replicas of each master (default 0). With replicas, killing a master fails over to its replica. */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout` in milliseconds (default 2000): how long a silent node takes to be suspected (and, with
   * replicas, failed over). Make it longer than any freeze a test causes when that must not count as a failure.
   */
  nodeTimeoutMs?: number;
  /** How long to wait for the cluster to form, in milliseconds (default 30000). */
  readyTimeoutMs?: number;
  /** The program to run (default `redis-server`). */
  binary?: string;
}

/** The first and last slot of each of `masters` even shares of the 16384 slots. */
export function clusterSlotRanges(masters: number): Array<[number, number]> {
  if (!Number.isInteger(masters) || masters < 1 || masters > CLUSTER_SLOTS) {
    throw new RangeError(`a cluster needs 1 to ${CLUSTER_SLOTS} masters, got ${masters}`);
  }
  return Array.from({ length: masters }, (_, i) => [
    Math.floor((i * CLUSTER_SLOTS) / masters),
    Math.floor(((i + 1) * CLUSTER_SLOTS) / masters) - 1,
  ]);
}

/** Waits until every node reports `cluster_state:ok` (all slots served), or throws after `timeoutMs`. */
export async function waitClusterOk(nodes: readonly RedisServer[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await eachServer(nodes, (c) =>
    waitUntil(
      async () => (await c.cluster('INFO')).includes('cluster_state:ok'),
      Math.max(0, deadline - Date.now()),
      'cluster did not reach cluster_state:ok',
    ),
  );
}

/** Waits until each replica's link to its master is up (the first full sync done). */
async function waitReplicasSynced(replicas: readonly RedisServer[], timeoutMs: number): Promise<void> {
  await eachServer(replicas, (c, s) =>
    waitUntil(
      async () => /master_link_status:up/.test(await c.info('replication')),
      timeoutMs,
      `replica on port ${s.port} did not sync`,
    ),
  );
}

/**
 * Forms a cluster of running cluster-enabled nodes with redis-server's own commands (no redis-cli): slots to the
 * masters, distinct config epochs, MEET, then each replica follows its master.
 */
async function formCluster(masters: RedisServer[], replicas: RedisServer[], timeoutMs: number): Promise<void> {
  const nodes = [...masters, ...replicas];
  const ranges = clusterSlotRanges(masters.length);
  await eachServer(nodes, async (c, s) => {
    const index = nodes.indexOf(s);
    await c.call('CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1));
    if (index < masters.length) {
      const [first, last] = ranges[index];
      const slots = Array.from({ length: last - first + 1 }, (_, i) => String(first + i));
      await c.call('CLUSTER', 'ADDSLOTS', ...slots);
    }
  });
  const ids = await eachServer(nodes, async (c) => String(await c.call('CLUSTER', 'MYID')));
  await eachServer([nodes[0]], (c) =>
    Promise.all(nodes.slice(1).map((n) => c.call('CLUSTER', 'MEET', n.host, String(n.port)))),
  );
  // Every node knows every other one (gossip done, no handshake left).
  await eachServer(nodes, (c) =>
    waitUntil(
      async () => {
        const lines = String(await c.call('CLUSTER', 'NODES'))
          .trim()
          .split('\n');
        return lines.length === nodes.length && !lines.some((l) => /handshake|noaddr/.test(l));
      },
      timeoutMs,
      'cluster nodes did not meet',
    ),
  );
  await eachServer(replicas, (c, s) => {
    const master = ids[replicas.indexOf(s) % masters.length];
    return c.call('CLUSTER', 'REPLICATE', master);
  });
}

/**
 * A running Redis Cluster: its nodes (masters, then replicas, as started; a failover swaps roles) and the
 * connection options for RedisModule.
 */
export class RedisCluster extends RedisServerGroup {
  /**
   * Use {@link startCluster}.
   * @param masters the nodes started as masters
   * @param replicas the nodes started as replicas (`replicasPerMaster` per master, in master order)
   */
  constructor(
    readonly masters: readonly RedisServer[],
    readonly replicas: readonly RedisServer[],
    private readonly readyTimeoutMs: number,
  ) {
    super([...masters, ...replicas]);
  }

  /** Every node, masters first. */
  get nodes(): readonly RedisServer[] {
    return this.servers;
  }

  /** `[{host, port}]` of every node, for `new Cluster(...)`. */
  get seeds(): RedisNodeAddress[] {
    return this.servers.map((n) => ({ host: n.host, port: n.port }));
  }

  /** RedisModule connection options: `{ nodes }` (every node as a seed). */
  get connection(): RedisTopologyConnection {
    return { nodes: this.seeds };
  }

  /** A new ioredis `Cluster` (following redirections); `options` are those of each node connection. */
  client(options: Partial<RedisOptions> = {}): Cluster {
    const c = new Cluster(this.seeds, { redisOptions: { maxRetriesPerRequest: 1, ...options } });
    c.on('error', () => undefined);
    return c;
  }

  /**
   * Starts every node that is not running and waits for `cluster_state:ok`. Each node reloads its nodes.conf
   * (kept in its dir): same node id, same slots, empty keyspace (unless restarted with `keepData`).
   */
  override async start(): Promise<void> {
    await super.start();
    await this.waitOk();
  }

  /** Waits until every running node reports `cluster_state:ok` (e.g. after a master was failed over). */
  async waitOk(timeoutMs = this.readyTimeoutMs): Promise<void> {
    await waitClusterOk(
      this.servers.filter((s) => s.running),
      timeoutMs,
    );
  }

  /** The node that is the master of `key`'s slot now (asked of a running node: CLUSTER KEYSLOT, CLUSTER SLOTS). */
  async masterOf(key: string): Promise<RedisServer> {
    const asked = this.servers.find((s) => s.running && !s.paused);
    if (!asked) throw new Error('no cluster node is running');
    const [port] = await eachServer([asked], async (c) => {
      const slot = Number(await c.cluster('KEYSLOT', key));
      const ranges = await c.cluster('SLOTS');
      return ranges.find(([first, last]) => slot >= first && slot <= last)?.[2]?.[1];
    });
    const master = this.servers.find((s) => s.port === Number(port));
    if (!master) throw new Error(`no master serves the slot of "${key}"`);
    return master;
  }
}

/**
 * Starts a Redis Cluster on free ports: `masters` masters (default 3) sharing the 16384 slots, each with
 * `replicasPerMaster` replicas (default 0), formed and `cluster_state:ok` before it returns.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const replicaCount = masterCount * (options.replicasPerMaster ?? 0);
  clusterSlotRanges(masterCount);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 2_000),
  ];
  const startNode = async (): Promise<RedisServer> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await startRedis({ port: await freeClusterPort(), args, binary: options.binary });
      } catch (err) {
        if (attempt >= 3 || err instanceof RedisServerNotFoundError) throw err;
      }
    }
  };
  const started: RedisServer[] = [];
  try {
    for (let i = 0; i < masterCount + replicaCount; i++) started.push(await startNode());
    const masters = started.slice(0, masterCount);
    const replicas = started.slice(masterCount);
    await formCluster(masters, replicas, readyTimeoutMs);
    const cluster = new RedisCluster(masters, replicas, readyTimeoutMs);
    await cluster.waitOk();
    await waitReplicasSynced(replicas, readyTimeoutMs);
    return cluster;
  } catch (err) {
    await Promise.all(started.map((n) => n.stop()));
    throw err;
  }
}
