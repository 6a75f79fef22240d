import { Logger } from '@nestjs/common';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { settleWithin, withTimeout } from '../core/deadline';
import { OutageBreaker } from '../core/outage-breaker';
import { RedisUnavailableError } from './redis.errors';
import type { RedisClient, RedisConnectionOptions, ResolvedRedisModuleOptions } from './redis.options';

/** One connection the module knows about, as reported by health and closed on shutdown. */
export interface TrackedConnection {
  /** `default`, `other`, or `default:subscriber` for a dedicated connection. */
  readonly name: string;
  /** The ioredis client. */
  readonly client: RedisClient;
  /** Human-readable address (password hidden), used in errors and logs. */
  readonly address: string;
  /** False for a client the user passed in: the module never closes it. */
  readonly owned: boolean;
  /** True for a connection that runs blocking commands: health checks its state instead of PINGing. */
  readonly blocking: boolean;
}

/** Options of a dedicated connection made by `RedisService.duplicate()`. */
export interface DuplicateOptions {
  /** The connection will run blocking commands (XREADGROUP BLOCK, BLPOP): health checks its state, not PING. */
  blocking?: boolean;
  /** ioredis options that override those of the parent client. */
  redisOptions?: Partial<RedisOptions>;
}

/** Builds the ioredis options of one client from our options. */
export function buildRedisOptions(o: RedisConnectionOptions): RedisOptions {
  const maxDelayMs = o.maxReconnectDelayMs ?? 2_000;
  const base: RedisOptions = {
    protocol: 2,
    commandTimeout: o.commandTimeoutMs ?? 2_000,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: o.failFast ? 0 : 1,
    enableOfflineQueue: !o.failFast,
    retryStrategy: (times: number) => Math.min(times * 100, maxDelayMs),
    lazyConnect: true,
  };
  if (o.username !== undefined) base.username = o.username;
  if (o.password !== undefined) base.password = o.password;
  if (o.db !== undefined) base.db = o.db;
  if (o.tls) base.tls = o.tls === true ? {} : o.tls;
  return { ...base, ...(o.redisOptions ?? {}) };
}

/** Human-readable address of a connection, without secrets. */
export function describeAddress(o: RedisConnectionOptions): string {
  if (o.client) return describeClient(o.client);
  if (o.url) {
    const u = new URL(o.url);
    return `${u.protocol}//${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  }
  if (o.sentinels) return `sentinel(${o.name}) via ${o.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  if (o.nodes) return `cluster ${o.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return `${o.tls ? 'rediss' : 'redis'}://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}${o.db ? `/${o.db}` : ''}`;
}

function describeClient(client: RedisClient): string {
  if (client instanceof Cluster) {
    return `cluster ${client
      .nodes('master')
      .map((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}`)
      .join(',')}`;
  }
  const { host, port, db, sentinels, name } = client.options;
  if (sentinels?.length) return `sentinel(${name ?? ''})`;
  return `redis://${host ?? '127.0.0.1'}:${port ?? 6379}${db ? `/${db}` : ''}`;
}

/**
 * Makes `commandTimeout` also bound the time a command waits for a Cluster that is not ready (every node down, the
 * client reconnecting), as it does on a single node. ioredis keeps such commands in the Cluster's own offline queue
 * and starts their timer only when a node connection takes them, so a command sent while the whole cluster is down
 * waited until it came back: a request hung instead of failing within the timeout (503). Blocking connections have
 * no `commandTimeout` and are left alone. Applied to every Cluster the module creates, duplicates included.
 */
export function boundClusterOfflineWait(cluster: Cluster): Cluster {
  const send = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = (...args: Parameters<Cluster['sendCommand']>) => {
    const [command] = args;
    const timeoutMs = cluster.options.redisOptions?.commandTimeout;
    // Command.setTimeout() arms one timer per command (later calls are no-ops): the node connection reuses it.
    if (typeof timeoutMs === 'number' && cluster.status !== 'ready' && !command.isSettled)
      command.setTimeout(timeoutMs);
    return send(...args);
  };
  return cluster;
}

/** Creates (without connecting) an ioredis client for the given options. */
export function createRedisClient(o: RedisConnectionOptions, connectionName?: string): RedisClient {
  const redisOptions = buildRedisOptions(o);
  if (connectionName) redisOptions.connectionName = connectionName;
  if (o.nodes) {
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: !o.failFast,
      clusterRetryStrategy: (times: number) => Math.min(times * 100, o.maxReconnectDelayMs ?? 2_000),
      ...(o.clusterOptions ?? {}),
      redisOptions,
    };
    if (o.tls) clusterOptions.dnsLookup = (address, cb) => cb(null, address);
    return boundClusterOfflineWait(new Cluster(o.nodes, clusterOptions));
  }
  if (o.sentinels) {
    return new Redis({ ...redisOptions, sentinels: o.sentinels, name: o.name, sentinelPassword: o.sentinelPassword });
  }
  if (o.url) return new Redis(o.url, redisOptions);
  return new Redis({ host: o.host ?? '127.0.0.1', port: o.port ?? 6379, ...redisOptions });
}

/** TLS handshake failures that retrying cannot fix (untrusted or mismatched certificate). */
const PERMANENT_TLS_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True for an error retrying cannot fix: a TLS certificate the client refuses. */
function isPermanentConnectError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && PERMANENT_TLS_ERROR_CODES.has(code);
}

/**
 * Resolves when the client is ready, rejects with {@link RedisUnavailableError} naming the address
 * after `timeoutMs`, or at once when the server's TLS certificate is refused (retrying cannot fix that).
 * Starts the connection when the client was created lazily.
 */
export async function waitUntilReady(client: RedisClient, address: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  let lastError: Error | undefined;
  let failNow: ((err: Error) => void) | undefined;
  const onError = (err: Error) => {
    lastError = err;
    if (isPermanentConnectError(err)) failNow?.(err);
  };
  client.on('error', onError);
  try {
    const ready = new Promise<void>((resolve, reject) => {
      failNow = reject;
      client.once('ready', () => resolve());
      if (client.status === 'wait') client.connect().catch((err: Error) => onError(err));
      if (client.status === 'end') reject(new Error('connection ended'));
    });
    await withTimeout(ready, timeoutMs, () => new Error('timeout'));
  } catch {
    const permanent = lastError !== undefined && isPermanentConnectError(lastError);
    throw new RedisUnavailableError(
      permanent
        ? `Could not connect to Redis at ${address}: TLS certificate refused (${lastError?.message}); check the "tls" options (ca, servername)`
        : `Could not connect to Redis at ${address} within ${timeoutMs} ms` +
            (lastError ? `: ${lastError.message}` : ''),
      { cause: lastError },
    );
  } finally {
    client.off('error', onError);
  }
}

/**
 * Every Redis connection of the application: the configured clients and the dedicated ones made
 * with `duplicate()`. Owns their lifecycle; closes dedicated connections first, shared ones last.
 */
export class RedisConnections {
  private readonly logger = new Logger('RedisModule');
  private readonly connections = new Map<string, TrackedConnection>();

  constructor(readonly options: ResolvedRedisModuleOptions) {}

  /** Creates every configured client and (unless lazyConnect) waits until all are ready. */
  async connectAll(): Promise<void> {
    for (const [name, conn] of Object.entries(this.options.clients)) {
      const client = conn.client ?? createRedisClient(conn, `nrk:${name}`);
      this.track({ name, client, address: describeAddress(conn), owned: !conn.client, blocking: false });
    }
    const waits = [...this.connections.values()].map(async (c) => {
      if (this.options.lazyConnect) {
        if (c.client.status === 'wait') c.client.connect().catch(() => undefined);
        return;
      }
      await waitUntilReady(c.client, c.address, this.options.readyTimeoutMs);
      this.logger.log(`Redis client "${c.name}" ready at ${c.address}`);
    });
    try {
      await Promise.all(waits);
    } catch (err) {
      await this.closeAll();
      throw err;
    }
  }

  /** Adds a client made elsewhere (e.g. a lock node) and connects it; it is closed on shutdown. */
  async add(name: string, conn: RedisConnectionOptions, wait: boolean): Promise<RedisClient> {
    if (this.connections.has(name)) throw new Error(`A Redis client named "${name}" already exists`);
    const client = conn.client ?? createRedisClient(conn, `nrk:${name}`);
    const tracked = { name, client, address: describeAddress(conn), owned: !conn.client, blocking: false };
    this.track(tracked);
    if (wait) await waitUntilReady(client, tracked.address, this.options.readyTimeoutMs);
    else if (client.status === 'wait') client.connect().catch(() => undefined);
    return client;
  }

  /** The client registered under `name`, or throws naming the known ones. */
  get(name: string): TrackedConnection {
    const found = this.connections.get(name);
    if (!found) {
      throw new Error(`No Redis client named "${name}" (known: ${[...this.connections.keys()].join(', ')})`);
    }
    return found;
  }

  /** Every tracked connection, in creation order. */
  list(): TrackedConnection[] {
    return [...this.connections.values()];
  }

  /** A new dedicated connection to the same server as `name`, tracked as `name:purpose`. */
  duplicate(name: string, purpose: string, options: DuplicateOptions = {}): RedisClient {
    const parent = this.get(name);
    let key = `${name}:${purpose}`;
    for (let i = 2; this.connections.has(key); i++) key = `${name}:${purpose}#${i}`;
    const overrides: Partial<RedisOptions> = { connectionName: `nrk:${key}`, ...(options.redisOptions ?? {}) };
    if (options.blocking) overrides.commandTimeout = undefined;
    const client =
      parent.client instanceof Cluster
        ? boundClusterOfflineWait(
            parent.client.duplicate(undefined, {
              redisOptions: { ...parent.client.options.redisOptions, ...overrides },
            }),
          )
        : parent.client.duplicate({ ...overrides, lazyConnect: false });
    this.track({ name: key, client, address: parent.address, owned: true, blocking: options.blocking ?? false });
    return client;
  }

  /** Stops tracking and closes one dedicated connection (a feature that no longer needs it). */
  async release(client: RedisClient): Promise<void> {
    for (const [key, c] of this.connections) {
      if (c.client === client) {
        this.connections.delete(key);
        if (c.owned) await closeClient(c.client);
      }
    }
  }

  /** Closes every owned connection: dedicated ones first, configured clients last. Never closes user-given clients. */
  async closeAll(): Promise<void> {
    const all = this.list().reverse();
    const dedicated = all.filter((c) => c.name.includes(':'));
    const shared = all.filter((c) => !c.name.includes(':'));
    await Promise.all(dedicated.filter((c) => c.owned).map((c) => closeClient(c.client)));
    await Promise.all(shared.filter((c) => c.owned).map((c) => closeClient(c.client)));
    this.connections.clear();
  }

  private track(c: TrackedConnection): void {
    this.connections.set(c.name, c);
    if (!c.owned) return;
    // One line when a connection starts failing and one when it is back, not one per reconnect attempt.
    const outage = new OutageBreaker({
      subject: `Redis client "${c.name}" (${c.address})`,
      probeIntervalMs: 0,
      logger: this.logger,
    });
    c.client.on('error', (err: Error) => outage.failure(err));
    c.client.on('ready', () => outage.success());
  }
}

/** QUIT with a bound: a client that cannot say goodbye within 1 s is disconnected. Resolves once it has ended. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  if (client.status === 'ready') await settleWithin(client.quit(), 1_000, undefined);
  if ((client.status as string) !== 'end') client.disconnect();
  await settleWithin(ended, 1_000, undefined);
}
