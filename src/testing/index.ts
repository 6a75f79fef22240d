/**
 * nest-redis-kit/testing: real, private redis-server topologies for a test suite (Jest, Vitest, node:test...):
 * one server, a cluster or a Sentinel group on free ports, the RedisModule options to reach them, and the means to
 * kill, freeze, resume and restart a node. Needs only `redis-server` on PATH. Every process is killed, and every
 * temp dir removed, when the test process ends, however it ends. Not re-exported by the package root.
 */
export { startRedis, startIndependent, uniquePrefix, RedisServer } from './redis-server';
export type { RedisServerOptions, RedisServerTlsFiles, RedisServerUser } from './redis-server';
export {
  startCluster,
  waitClusterOk,
  clusterSlotRanges,
  RedisCluster,
  type StartClusterOptions,
} from './redis-cluster';
export { startSentinelGroup, RedisSentinelGroup, type StartSentinelGroupOptions } from './redis-sentinel';
export { startRedisTopology, type RedisTopologyKind, type StartRedisTopologyOptions } from './redis-topology';
export type { RedisTopology, RedisTopologyConnection, RedisRestartOptions } from './redis-topology.types';
export { freePort } from './free-port';
export { reapWithThisProcess, removeWithThisProcess } from './process-reaper';
export { RedisServerNotFoundError } from './testing.errors';
