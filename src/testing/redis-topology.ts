import { startCluster, type StartClusterOptions } from './redis-cluster';
import { startRedis, type RedisServerOptions } from './redis-server';
import { startSentinelGroup, type StartSentinelGroupOptions } from './redis-sentinel';
import type { RedisTopology } from './redis-topology.types';

/** The shapes {@link startRedisTopology} starts. */
export type RedisTopologyKind = 'standalone' | 'cluster' | 'sentinel';

/** Options of {@link startRedisTopology}: those of the shape it starts. */
export interface StartRedisTopologyOptions {
  /** For `standalone`: the server's options. */
  server?: RedisServerOptions;
  /** For `cluster`: masters (default 3), replicas, node timeout. */
  cluster?: StartClusterOptions;
  /** For `sentinel`: group name, timings. */
  sentinel?: StartSentinelGroupOptions;
}

/**
 * Starts Redis in the shape asked for, behind the one {@link RedisTopology} interface, so that one test suite can
 * run on each shape (e.g. chosen by an environment variable): one server ({@link startRedis}), a 3-master cluster
 * ({@link startCluster}) or a Sentinel group ({@link startSentinelGroup}).
 */
export async function startRedisTopology(
  kind: RedisTopologyKind,
  options: StartRedisTopologyOptions = {},
): Promise<RedisTopology> {
  switch (kind) {
    case 'standalone':
      return startRedis(options.server);
    case 'cluster':
      return startCluster(options.cluster);
    case 'sentinel':
      return startSentinelGroup(options.sentinel);
    default:
      throw new RangeError(`startRedisTopology: kind must be standalone, cluster or sentinel, got "${String(kind)}"`);
  }
}
