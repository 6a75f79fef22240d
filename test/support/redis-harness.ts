/**
 * Real redis-server processes for tests: standalone, N independent nodes, a 3-master cluster,
 * master + replica + 3 sentinels. Each process runs on a free port in its own temp dir, without
 * persistence. A reaper process kills every server (and the embedded PostgreSQL server, see test-database.ts)
 * when the test process dies, however it dies.
 * Never ioredis-mock.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisNodeAddress } from '../../src/redis';

const execFileAsync = promisify(execFile);

/** Directory under which every harness temp dir is made (and the reaper's pid list lives). */
export const HARNESS_ROOT = join(tmpdir(), 'nrk-harness');

let reaperFile: string | undefined;

/** Starts (once per process) a detached shell that kills our servers when this process dies. */
function ensureReaper(): string {
  if (reaperFile) return reaperFile;
  const dir = mkdtempSync(join(tmpdir(), 'nrk-reaper-'));
  reaperFile = join(dir, 'pids');
  writeFileSync(reaperFile, '');
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; for p in $(cat ${reaperFile}); do kill -9 $p 2>/dev/null; done; rm -rf ${dir}`;
  const reaper = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaperFile;
}

/**
 * Has the reaper kill process `pid` when this process dies (the harness's own servers are added by
 * {@link RedisServer.start}; the embedded PostgreSQL server of the e2e tests is added this way).
 */
export function reapWithThisProcess(pid: number): void {
  appendFileSync(ensureReaper(), `${pid}\n`);
}

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

/**
 * A free port for a cluster node: its cluster bus listens on port + 10000, which must exist (≤ 65535) and be
 * free too. (A plain free port is above 55535 about one time in five, and redis-server then refuses to start.)
 */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Certificate files of a TLS server (PEM paths), e.g. made by test/support/tls-certs.ts. */
export interface RedisServerTlsFiles {
  /** Server certificate. */
  certFile: string;
  /** Server private key. */
  keyFile: string;
  /** CA certificate (used by the harness's own probe and client()). */
  caFile: string;
}

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
/**
 * Its rule: only keys and channels under `test:` (every {@link uniquePrefix}) and the command categories the
 * library needs, nothing dangerous. `REDIS_TEST_ACL=1 npx jest test/<suite>` runs a suite on it (cache, session
 * and lock suites pass). Redis compares PSUBSCRIBE patterns literally with the allowed ones, so tests that
 * subscribe to a pattern under a unique prefix are refused (NOPERM) in this mode; test/acl.e2e-spec.ts shows
 * the production rule, which lists the app's pattern.
 */
export const TEST_ACL_RULE = ['reset', 'on', `>${TEST_ACL_PASSWORD}`, '~test:*', '&test:*', ...LIBRARY_ACL_COMMANDS];

/** Options of one server. */
export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. `['--requirepass', 'x']`. */
  args?: string[];
  /** Start as `redis-server --sentinel` with this config text (port line added). */
  sentinelConfig?: string;
  /** Fixed port (default: a free one). */
  port?: number;
  /** Password used by the harness's own readiness probe. */
  password?: string;
  /**
   * TLS. `true`: the caller passes the TLS args itself, the harness only checks the process runs.
   * Certificate files: the server listens with TLS only on `port` (plain port off, client certs not
   * required), `url` is `rediss://`, and the probe and `client()` use TLS with the CA.
   */
  tls?: boolean | RedisServerTlsFiles;
}

/** One redis-server process the harness started. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** `127.0.0.1`. */
  readonly host = '127.0.0.1';

  /**
   * `redis://127.0.0.1:<port>` (`rediss://` for a server started with TLS certificate files). With
   * REDIS_TEST_ACL=1 it carries the restricted ACL user (see {@link TEST_ACL_RULE}); `client()` stays admin.
   */
  get url(): string {
    const auth = this.aclUser ? `${TEST_ACL_USER}:${TEST_ACL_PASSWORD}@` : '';
    return `${this.tlsFiles ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`;
  }

  /** True when the server has the restricted test user and `url` uses it (REDIS_TEST_ACL=1). */
  get aclUser(): boolean {
    return this.aclReady;
  }

  private aclReady = false;

  /** The TLS certificate files, when the server was started with them. */
  get tlsFiles(): RedisServerTlsFiles | undefined {
    return typeof this.options.tls === 'object' ? this.options.tls : undefined;
  }

  /** ioredis `tls` options trusting the server's CA (undefined without TLS files). */
  private tlsClientOptions(): { ca: Buffer } | undefined {
    const files = this.tlsFiles;
    return files ? { ca: readFileSync(files.caFile) } : undefined;
  }

  /** The OS process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the process runs. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until it answers PING. */
  async start(): Promise<void> {
    let args: string[];
    if (this.options.sentinelConfig !== undefined) {
      const conf = join(this.dir, 'sentinel.conf');
      if (!existsSync(conf))
        writeFileSync(conf, `port ${this.port}\nbind 127.0.0.1\ndir ${this.dir}\n${this.options.sentinelConfig}\n`);
      args = [conf, '--sentinel'];
    } else {
      const files = this.tlsFiles;
      const listen = files
        ? [
            '--port',
            '0',
            '--tls-port',
            String(this.port),
            '--tls-cert-file',
            files.certFile,
            '--tls-key-file',
            files.keyFile,
            '--tls-ca-cert-file',
            files.caFile,
            '--tls-auth-clients',
            'no',
          ]
        : ['--port', String(this.port)];
      args = [
        ...listen,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...(this.options.args ?? []),
      ];
    }
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (child.pid) reapWithThisProcess(child.pid);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`redis-server on port ${this.port} exited: ${stderr}`);
      if (await this.ping()) {
        await this.setupTestAcl();
        return;
      }
      await sleep(20);
    }
    throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
  }

  /** REDIS_TEST_ACL=1: adds the restricted user to a plain standalone server (not cluster, sentinel, TLS). */
  private async setupTestAcl(): Promise<void> {
    const plain =
      this.options.sentinelConfig === undefined &&
      !this.options.tls &&
      !(this.options.args ?? []).some((a) => a === '--cluster-enabled' || a === '--replicaof');
    if (process.env.REDIS_TEST_ACL !== '1' || !plain) return;
    const admin = this.client();
    try {
      await admin.call('ACL', 'SETUSER', TEST_ACL_USER, ...TEST_ACL_RULE);
      this.aclReady = true;
    } finally {
      admin.disconnect();
    }
  }

  /** One PING with a fresh connection; true when answered. */
  async ping(): Promise<boolean> {
    if (this.options.tls === true) return this.running;
    const probe = new Redis({
      tls: this.tlsClientOptions(),
      host: this.host,
      port: this.port,
      password: this.options.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: 500,
      commandTimeout: 500,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return true;
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** Kills the process (SIGKILL by default) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.child?.kill('SIGCONT');
    this.child?.kill(signal);
    await this.exited;
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Thaws a paused process (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the process and starts a new one on the same port (empty: no persistence). */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Kills the process and removes its temp dir. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new ioredis client to this server, for test assertions; the caller disconnects it. */
  client(options: Record<string, unknown> = {}): Redis {
    const c = new Redis({
      host: this.host,
      port: this.port,
      password: this.options.password,
      tls: this.tlsClientOptions(),
      maxRetriesPerRequest: 1,
      ...options,
    });
    c.on('error', () => undefined);
    return c;
  }
}

/** Starts one redis-server on a free port. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'nrk-redis-'));
    const server = new RedisServer(port, dir, options);
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      if (attempt >= 3 || options.port) throw err;
    }
  }
}

/** Starts `n` independent servers (e.g. Redlock quorum nodes). */
export async function startIndependent(n: number, options: RedisServerOptions = {}): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: n }, () => startRedis(options)));
}

/** A running cluster: its master processes and the seed addresses for ioredis. */
export interface RedisClusterHandle {
  /** One server per master. */
  nodes: RedisServer[];
  /** `[{host, port}]` for `new Cluster(...)` / RedisModule `nodes`. */
  seeds: Array<{ host: string; port: number }>;
  /** Stops every node. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /**
   * `cluster-node-timeout` in milliseconds (default 2000): how long a silent node takes to be suspected. The
   * topology-aware suites use a long one, so freezing every node for a few seconds (SIGSTOP) is not mistaken
   * for a failure (there are no replicas to fail over to anyway).
   */
  nodeTimeoutMs?: number;
}

/** Starts one cluster-enabled node on a port whose bus port (+10000) is free too; retries on a port race. */
async function startClusterNode(nodeTimeoutMs: number): Promise<RedisServer> {
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
  ];
  for (let attempt = 0; ; attempt++) {
    try {
      return await startRedis({ port: await freeClusterPort(), args });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** Waits until every node reports `cluster_state:ok` (all slots served), or throws after `timeoutMs`. */
export async function waitClusterOk(nodes: RedisServer[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    const c = node.client();
    try {
      while ((await c.cluster('INFO').catch(() => '')).indexOf('cluster_state:ok') < 0) {
        if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok within ${timeoutMs} ms`);
        await sleep(50);
      }
    } finally {
      c.disconnect();
    }
  }
}

/** Starts a cluster of `masters` masters (default 3), no replicas, all 16384 slots assigned. */
export async function startCluster(masters = 3, options: StartClusterOptions = {}): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startClusterNode(options.nodeTimeoutMs ?? 2_000));
    await execFileAsync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await waitClusterOk(nodes);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return {
    nodes,
    seeds: nodes.map((n) => ({ host: n.host, port: n.port })),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** A running master + replica + 3 sentinels group. */
export interface SentinelGroupHandle {
  /** Master group name (`mymaster`). */
  name: string;
  /** The server started as master. */
  master: RedisServer;
  /** The server started as its replica. */
  replica: RedisServer;
  /** The three sentinels. */
  sentinels: RedisServer[];
  /** `[{host, port}]` of the sentinels, for RedisModule `sentinels`. */
  sentinelAddresses: Array<{ host: string; port: number }>;
  /** Stops every process. */
  stop(): Promise<void>;
}

/** Starts a master, one replica and 3 sentinels (quorum 2, down-after 1000 ms). */
export async function startSentinelGroup(name = 'mymaster'): Promise<SentinelGroupHandle> {
  const started: RedisServer[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    started.push(replica);
    const probe = replica.client();
    const deadline = Date.now() + 15_000;
    try {
      while (!/master_link_status:up/.test(await probe.info('replication'))) {
        if (Date.now() > deadline) throw new Error('replica did not sync');
        await sleep(50);
      }
    } finally {
      probe.disconnect();
    }
    const conf = [
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
    ].join('\n');
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startRedis({ sentinelConfig: conf });
      started.push(s);
      sentinels.push(s);
    }
    return {
      name,
      master,
      replica,
      sentinels,
      sentinelAddresses: sentinels.map((s) => ({ host: s.host, port: s.port })),
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}

/** A unique key prefix for one test, so tests sharing a server never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `test:${label}:${process.pid}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
}

// ---------------------------------------------------------------------------------------------------------------
// Topology-aware suites: the same tests on one server (`npm test`) or a 3-master cluster (`npm run test:cluster`).
// ---------------------------------------------------------------------------------------------------------------

/** What the topology-aware suites run on. */
export type RedisTopology = 'standalone' | 'cluster';

/**
 * The topology from `REDIS_TOPOLOGY` (unset or empty: `standalone`). Any other value throws, so a typo never
 * silently runs the standalone tests a second time.
 */
export function testTopology(env: NodeJS.ProcessEnv = process.env): RedisTopology {
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
 * Tests use `connection` / `env` to connect the code under test and the helpers below to look at or break Redis;
 * they never need to know which topology they run on, except to skip a standalone-only test ({@link itStandalone}).
 */
export interface TestRedis {
  /** `standalone` or `cluster`. */
  readonly topology: RedisTopology;
  /** Every redis-server process: the one server, or each master of the cluster. */
  readonly servers: readonly RedisServer[];
  /** RedisModule connection options: `{ url }` or `{ nodes }`; spread them into `RedisModule.forRoot({ ...})`. */
  readonly connection: TestRedisConnection;
  /** Reference-service environment: `{ REDIS_URL }` or `{ REDIS_CLUSTER_NODES: 'host:port,...' }`. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * A new ioredis client for assertions (a `Cluster` on a cluster, following redirections); the caller
   * disconnects it. `options` are ioredis options (for a cluster, those of each node connection).
   */
  client(options?: Partial<RedisOptions>): Redis | Cluster;
  /** Runs `fn` on a fresh admin connection to each server (each master), in parallel; returns the results in order. */
  eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]>;
  /** Every key matching `pattern` (SCAN MATCH on every master), for tests that read the keyspace. */
  keys(pattern: string): Promise<string[]>;
  /** Pattern subscriptions on the server(s): PUBSUB NUMPAT counts those of one node, so the sum over every master. */
  patternSubscriptions(): Promise<number>;
  /** Kills every process (SIGKILL) and waits for them to exit: Redis is down. */
  kill(): Promise<void>;
  /** Starts every process again on its port, empty (no persistence); on a cluster waits for `cluster_state:ok`. */
  start(): Promise<void>;
  /** {@link kill} then {@link start}: Redis restarted empty (a cluster keeps its slot layout). */
  restart(): Promise<void>;
  /** Freezes every process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws every process (SIGCONT). */
  resume(): void;
  /** Kills every process and removes its temp dir. */
  stop(): Promise<void>;
}

/** cluster-node-timeout of the topology-aware cluster: longer than any freeze or outage a test causes. */
const TEST_CLUSTER_NODE_TIMEOUT_MS = 15_000;

/** What both topologies do the same way, over every server: look at keys, break and thaw Redis. */
abstract class ServersTestRedis {
  constructor(readonly servers: readonly RedisServer[]) {}
  async eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]> {
    return eachServer(this.servers, fn);
  }
  keys(pattern: string): Promise<string[]> {
    return scanAll(this.servers, pattern);
  }
  async patternSubscriptions(): Promise<number> {
    const counts = await this.eachNode(async (c) => Number((await c.pubsub('NUMPAT')) as unknown));
    return counts.reduce((a, b) => a + b, 0);
  }
  async kill(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }
  abstract start(): Promise<void>;
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
  pause(): void {
    for (const s of this.servers) s.pause();
  }
  resume(): void {
    for (const s of this.servers) s.resume();
  }
}

class StandaloneTestRedis extends ServersTestRedis implements TestRedis {
  readonly topology = 'standalone';
  constructor(private readonly server: RedisServer) {
    super([server]);
  }
  get connection(): TestRedisConnection {
    return { url: this.server.url };
  }
  get env(): Record<string, string> {
    return { REDIS_URL: this.server.url };
  }
  client(options: Partial<RedisOptions> = {}): Redis {
    return this.server.client(options);
  }
  start(): Promise<void> {
    return this.server.start();
  }
  stop(): Promise<void> {
    return this.server.stop();
  }
}

class ClusterTestRedis extends ServersTestRedis implements TestRedis {
  readonly topology = 'cluster';
  constructor(private readonly handle: RedisClusterHandle) {
    super(handle.nodes);
  }
  get connection(): TestRedisConnection {
    return { nodes: this.handle.seeds.map((s) => ({ ...s })) };
  }
  get env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.handle.seeds.map((s) => `${s.host}:${s.port}`).join(',') };
  }
  client(options: Partial<RedisOptions> = {}): Cluster {
    const c = new Cluster(this.handle.seeds, { redisOptions: { maxRetriesPerRequest: 1, ...options } });
    c.on('error', () => undefined);
    return c;
  }
  async start(): Promise<void> {
    // Each node reloads its nodes.conf (kept in its dir): same node id, same slots, empty keyspace.
    await Promise.all(this.servers.map((s) => (s.running ? undefined : s.start())));
    await waitClusterOk([...this.servers]);
  }
  stop(): Promise<void> {
    return this.handle.stop();
  }
}

async function eachServer<T>(
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

async function scanAll(servers: readonly RedisServer[], pattern: string): Promise<string[]> {
  const perNode = await eachServer(servers, async (c) => {
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
 * Starts Redis for a topology-aware suite: one redis-server, or with `REDIS_TOPOLOGY=cluster` a 3-master cluster.
 * @param topology overrides `REDIS_TOPOLOGY` (default: {@link testTopology})
 */
export async function startTestRedis(topology: RedisTopology = testTopology()): Promise<TestRedis> {
  if (topology === 'cluster') {
    return new ClusterTestRedis(await startCluster(3, { nodeTimeoutMs: TEST_CLUSTER_NODE_TIMEOUT_MS }));
  }
  return new StandaloneTestRedis(await startRedis());
}
