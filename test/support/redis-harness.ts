/**
 * Real redis-server processes for this repository's tests, on top of `nest-redis-kit/testing` (src/testing/),
 * which does the work: standalone, N independent nodes, a 3-master cluster, master + replica + 3 sentinels, each
 * process on a free port in its own temp dir, without persistence, killed by the reaper when the test process
 * dies, however it dies (the reaper also kills the embedded PostgreSQL server, see test-database.ts).
 * What is ours only: the topology-aware suites (`REDIS_TOPOLOGY`, {@link startTestRedis}, {@link itStandalone}),
 * the reference service's environment and the restricted ACL user of `REDIS_TEST_ACL=1`.
 * Never ioredis-mock.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisNodeAddress } from '../../src/redis';
import {
  startCluster as startTestingCluster,
  startRedis as startTestingRedis,
  startSentinelGroup as startTestingSentinelGroup,
  type RedisCluster,
  type RedisSentinelGroup,
  type RedisServer,
  type RedisRestartOptions,
  type RedisServerOptions,
  type RedisTopology,
  type StartClusterOptions,
} from '../../src/testing';

export {
  freePort,
  reapWithThisProcess,
  uniquePrefix,
  waitClusterOk,
  RedisServer,
  type RedisServerOptions,
  type RedisServerTlsFiles,
} from '../../src/testing';

/**
 * The commands the library needs, as ACL rules: the usual data-type categories, scripting and pub/sub, nothing
 * dangerous, plus `CLIENT SETNAME` (connection names), `INFO` (ioredis's ready check) and `TIME` (the cache's
 * stale-while-revalidate script). Follows the key and channel rules in an `ACL SETUSER`.
 */
export const LIBRARY_ACL_COMMANDS = [
  '-@all',
  '+@connection',
  '+@keyspace',
  '+@read',
  '+@write',
  '+@string',
  '+@hash',
  '+@list',
  '+@set',
  '+@sortedset',
  '+@stream',
  '+@pubsub',
  '+@scripting',
  '+@transaction',
  '-@dangerous',
  '+client|setname',
  '+info',
  '+time',
];

/** ACL user that REDIS_TEST_ACL=1 puts in every plain server's `url`. */
export const TEST_ACL_USER = 'nrk-test';
/** Its password. */
export const TEST_ACL_PASSWORD = 'nrk-test-acl-password';
/** Its keys and channels: those under `test:` (every {@link uniquePrefix}), and the commands the library needs. */
const TEST_ACL_PERMISSIONS = ['~test:*', '&test:*', ...LIBRARY_ACL_COMMANDS];
/**
 * Its rule: only keys and channels under `test:` (every {@link uniquePrefix}) and the command categories the
 * library needs, nothing dangerous. `REDIS_TEST_ACL=1 npx jest test/<suite>` runs a suite on it (cache, session
 * and lock suites pass). Redis compares PSUBSCRIBE patterns literally with the allowed ones, so tests that
 * subscribe to a pattern under a unique prefix are refused (NOPERM) in this mode; test/acl.e2e-spec.ts shows
 * the production rule, which lists the app's pattern.
 */
export const TEST_ACL_RULE = ['reset', 'on', `>${TEST_ACL_PASSWORD}`, ...TEST_ACL_PERMISSIONS];

/**
 * REDIS_TEST_ACL=1: a plain standalone server (not cluster, sentinel, replica or TLS) gets the restricted test user
 * in its `url`; `client()` stays admin.
 */
function withTestAcl(options: RedisServerOptions): RedisServerOptions {
  const plain =
    options.sentinelConfig === undefined &&
    !options.tls &&
    !(options.args ?? []).some((a) => a === '--cluster-enabled' || a === '--replicaof');
  if (process.env.REDIS_TEST_ACL !== '1' || !plain || options.user) return options;
  return { ...options, user: { name: TEST_ACL_USER, password: TEST_ACL_PASSWORD, rules: TEST_ACL_PERMISSIONS } };
}

/** Starts one redis-server on a free port (with REDIS_TEST_ACL=1, see {@link TEST_ACL_RULE}). */
export function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  return startTestingRedis(withTestAcl(options));
}

/** Starts `n` independent servers (e.g. Redlock quorum nodes). */
export async function startIndependent(n: number, options: RedisServerOptions = {}): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: n }, () => startRedis(options)));
}

/** A running cluster: its master processes (`nodes`) and the seed addresses for ioredis (`seeds`). */
export type RedisClusterHandle = RedisCluster;

/** Starts a cluster of `masters` masters (default 3), no replicas, all 16384 slots assigned. */
export function startCluster(
  masters = 3,
  options: Omit<StartClusterOptions, 'masters'> = {},
): Promise<RedisClusterHandle> {
  return startTestingCluster({ ...options, masters });
}

/** A running master + replica + 3 sentinels group. */
export type SentinelGroupHandle = RedisSentinelGroup;

/** Starts a master, one replica and 3 sentinels (quorum 2, down-after 1000 ms). */
export function startSentinelGroup(name = 'mymaster'): Promise<SentinelGroupHandle> {
  return startTestingSentinelGroup({ name });
}

// ---------------------------------------------------------------------------------------------------------------
// Topology-aware suites: the same tests on one server (`npm test`) or a 3-master cluster (`npm run test:cluster`).
// ---------------------------------------------------------------------------------------------------------------

/** What the topology-aware suites run on. */
export type TestTopology = 'standalone' | 'cluster';

/**
 * The topology from `REDIS_TOPOLOGY` (unset or empty: `standalone`). Any other value throws, so a typo never
 * silently runs the standalone tests a second time.
 */
export function testTopology(env: NodeJS.ProcessEnv = process.env): TestTopology {
  const value = env.REDIS_TOPOLOGY;
  if (value === undefined || value === '' || value === 'standalone') return 'standalone';
  if (value === 'cluster') return 'cluster';
  throw new Error(`REDIS_TOPOLOGY must be "standalone" or "cluster", got "${value}"`);
}

/** True when this run's topology-aware suites run on a cluster (`REDIS_TOPOLOGY=cluster`). */
export const onCluster: boolean = testTopology() === 'cluster';

/**
 * `it()` for a test that only makes sense on a single server; on a cluster it is skipped and reported as
 * `<name> [standalone only: <reason>]`. On standalone the name is unchanged. Keep such tests few.
 * @param reason why the test cannot run on a cluster (shown in the skipped test's name)
 */
export function itStandalone(reason: string, name: string, fn: jest.ProvidesCallback, timeoutMs?: number): void {
  if (onCluster) it.skip(`${name} [standalone only: ${reason}]`, fn, timeoutMs);
  else it(name, fn, timeoutMs);
}

/** RedisModule connection options of a {@link TestRedis}: a URL (standalone) or the cluster's seed nodes. */
export type TestRedisConnection = { url: string; nodes?: undefined } | { nodes: RedisNodeAddress[]; url?: undefined };

/**
 * Redis for a topology-aware suite, whatever the topology: one redis-server, or a 3-master cluster (no replicas).
 * Tests use `connection` / `env` to connect the code under test and the helpers of {@link RedisTopology} to look
 * at or break Redis; they never need to know which topology they run on, except to skip a standalone-only test
 * ({@link itStandalone}).
 */
export interface TestRedis extends RedisTopology {
  /** `standalone` or `cluster`. */
  readonly topology: TestTopology;
  /** RedisModule connection options: `{ url }` or `{ nodes }`; spread them into `RedisModule.forRoot({ ...})`. */
  readonly connection: TestRedisConnection;
  /** Reference-service environment: `{ REDIS_URL }` or `{ REDIS_CLUSTER_NODES: 'host:port,...' }`. */
  readonly env: Readonly<Record<string, string>>;
  /** Pattern subscriptions on the server(s): PUBSUB NUMPAT counts those of one node, so the sum over every master. */
  patternSubscriptions(): Promise<number>;
}

/** cluster-node-timeout of the topology-aware cluster: longer than any freeze or outage a test causes. */
const TEST_CLUSTER_NODE_TIMEOUT_MS = 15_000;

/** A {@link TestRedis} over a running topology of `nest-redis-kit/testing`: it delegates, and adds what is ours. */
class TopologyTestRedis implements TestRedis {
  constructor(
    readonly topology: TestTopology,
    private readonly redis: RedisServer | RedisCluster,
  ) {}
  get servers(): readonly RedisServer[] {
    return this.redis.servers;
  }
  get connection(): TestRedisConnection {
    const { url, nodes } = this.redis.connection;
    return nodes ? { nodes } : { url: url! };
  }
  get env(): Record<string, string> {
    const { url, nodes } = this.connection;
    return nodes ? { REDIS_CLUSTER_NODES: nodes.map((s) => `${s.host}:${s.port}`).join(',') } : { REDIS_URL: url };
  }
  client(options?: Partial<RedisOptions>): Redis | Cluster {
    return this.redis.client(options);
  }
  eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]> {
    return this.redis.eachNode(fn);
  }
  keys(pattern: string): Promise<string[]> {
    return this.redis.keys(pattern);
  }
  async patternSubscriptions(): Promise<number> {
    const counts = await this.eachNode(async (c) => Number((await c.pubsub('NUMPAT')) as unknown));
    return counts.reduce((a, b) => a + b, 0);
  }
  kill(): Promise<void> {
    return this.redis.kill();
  }
  start(): Promise<void> {
    return this.redis.start();
  }
  restart(options?: RedisRestartOptions): Promise<void> {
    return this.redis.restart(options);
  }
  pause(): void {
    this.redis.pause();
  }
  resume(): void {
    this.redis.resume();
  }
  stop(): Promise<void> {
    return this.redis.stop();
  }
}

/**
 * Starts Redis for a topology-aware suite: one redis-server, or with `REDIS_TOPOLOGY=cluster` a 3-master cluster.
 * @param topology overrides `REDIS_TOPOLOGY` (default: {@link testTopology})
 */
export async function startTestRedis(topology: TestTopology = testTopology()): Promise<TestRedis> {
  if (topology === 'cluster') {
    return new TopologyTestRedis(topology, await startCluster(3, { nodeTimeoutMs: TEST_CLUSTER_NODE_TIMEOUT_MS }));
  }
  return new TopologyTestRedis(topology, await startRedis());
}
