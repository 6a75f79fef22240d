import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** A client of either topology: a single node (standalone or through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

/** A host and port pair, used for Sentinels and Cluster seed nodes. */
export interface RedisNodeAddress {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** How to reach one Redis deployment. Give exactly one of: `url`, `host`/`port`, `sentinels`, `nodes`, `client`. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). */
  url?: string;
  /** Host of a standalone server (default `127.0.0.1` when neither url, sentinels, nodes nor client is given). */
  host?: string;
  /** Port of a standalone server (default 6379). */
  port?: number;
  /** Logical database number (standalone and Sentinel only). */
  db?: number;
  /** ACL user name. */
  username?: string;
  /** ACL password (or the legacy `requirepass` password). */
  password?: string;
  /** TLS options (`true` for defaults); implied by a `rediss://` url. */
  tls?: TlsConnectionOptions | boolean;
  /** Sentinel addresses; requires `name`. */
  sentinels?: RedisNodeAddress[];
  /** Name of the master group monitored by the Sentinels. */
  name?: string;
  /** Password for the Sentinels themselves, when they require one. */
  sentinelPassword?: string;
  /** Cluster seed nodes: makes this a Cluster client. */
  nodes?: RedisNodeAddress[];
  /** Extra ioredis Cluster options (used with `nodes`). */
  clusterOptions?: Omit<ClusterOptions, 'redisOptions'>;
  /** An existing ioredis client. The module uses it as is and never closes it. */
  client?: RedisClient;
  /** Per-command timeout in milliseconds (default 2000). A command that gets no answer in time fails. */
  commandTimeoutMs?: number;
  /** Timeout of the TCP connect in milliseconds (default 5000). */
  connectTimeoutMs?: number;
  /**
   * Fail fast: no offline queue, no request retries. A command sent while the connection is down fails
   * at once instead of waiting. Used for independent lock nodes; default false.
   */
  failFast?: boolean;
  /** Longest pause between reconnect attempts in milliseconds (default 2000). */
  maxReconnectDelayMs?: number;
  /** Any other ioredis option, applied last (advanced). */
  redisOptions?: Partial<RedisOptions>;
}

/** Options of `RedisModule.forRoot()` / `forRootAsync()`. */
export interface RedisModuleOptions extends RedisConnectionOptions {
  /** Named clients. `default` (if present) replaces the top-level connection options. */
  clients?: Record<string, RedisConnectionOptions>;
  /** Start of every key the library writes (default `nrk:`); each feature adds its own part (`cache:`, `sess:`...). */
  keyPrefix?: string;
  /** How long startup waits for each client to be ready, in milliseconds (default 10000). */
  readyTimeoutMs?: number;
  /** Start without waiting for Redis; clients connect in the background. Default false. */
  lazyConnect?: boolean;
  /** Timeout of each health PING in milliseconds (default 1000). */
  healthTimeoutMs?: number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedRedisModuleOptions {
  /** Connection options of every client, `default` included. */
  clients: Record<string, RedisConnectionOptions>;
  /** See {@link RedisModuleOptions.keyPrefix}. */
  keyPrefix: string;
  /** See {@link RedisModuleOptions.readyTimeoutMs}. */
  readyTimeoutMs: number;
  /** See {@link RedisModuleOptions.lazyConnect}. */
  lazyConnect: boolean;
  /** See {@link RedisModuleOptions.healthTimeoutMs}. */
  healthTimeoutMs: number;
}
