import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisConnectionOptions } from '../redis';
import type { RedisServer } from './redis-server';

/**
 * RedisModule connection options of a running topology: `{ url }` (standalone; with `tls` / `password` when the
 * server has them), `{ nodes }` (cluster) or `{ sentinels, name }` (Sentinel). Spread them into
 * `RedisModule.forRoot({ ...redis.connection, keyPrefix })` or return them from `forRootAsync`'s factory.
 */
export type RedisTopologyConnection = Pick<
  RedisConnectionOptions,
  'url' | 'password' | 'tls' | 'nodes' | 'sentinels' | 'name'
>;

/** Options of a restart. */
export interface RedisRestartOptions {
  /**
   * `true`: the data survives (each server writes a snapshot with `SAVE` before it is killed, and loads it when it
   * starts). Default `false`: it comes back empty, as after a crash without persistence.
   */
  keepData?: boolean;
}

/**
 * A running set of redis-server processes, whatever its shape (one server, a cluster, a Sentinel group): how to
 * connect the code under test, how to look at the data, and how to break Redis and bring it back.
 */
export interface RedisTopology {
  /** Every data server: the one server, every cluster node (masters, then replicas), or a Sentinel group's master and replica. */
  readonly servers: readonly RedisServer[];
  /** RedisModule connection options (see {@link RedisTopologyConnection}). */
  readonly connection: RedisTopologyConnection;
  /**
   * A new ioredis client for assertions (a `Cluster` on a cluster, following redirections; a Sentinel-aware client
   * on a Sentinel group); the caller disconnects it. `options` are ioredis options (on a cluster, of each node).
   */
  client(options?: Partial<RedisOptions>): Redis | Cluster;
  /** Runs `fn` on a fresh admin connection to each server, in parallel; the results in the order of `servers`. */
  eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]>;
  /** Every key matching `pattern` (SCAN MATCH on every server that is a master now). */
  keys(pattern: string): Promise<string[]>;
  /** Kills every data server (SIGKILL) and waits for them to exit: Redis is down. */
  kill(): Promise<void>;
  /** Starts every process that is not running, on its port; a cluster waits for `cluster_state:ok`. */
  start(): Promise<void>;
  /** {@link kill} then {@link start}: empty by default (a cluster keeps its slot layout), see {@link RedisRestartOptions}. */
  restart(options?: RedisRestartOptions): Promise<void>;
  /** Freezes every data server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws every frozen server (SIGCONT). */
  resume(): void;
  /** Kills every process and removes its temp dir. */
  stop(): Promise<void>;
}
