import { Redis, type RedisOptions } from 'ioredis';
import type { RedisNodeAddress } from '../redis';
import { startRedis, type RedisServer } from './redis-server';
import type { RedisTopologyConnection } from './redis-topology.types';
import { RedisServerGroup, waitUntil } from './topology.helpers';
import { sleep } from '../core/deadline';

/** Options of {@link startSentinelGroup}. */
export interface StartSentinelGroupOptions {
  /** Master group name (default `mymaster`): RedisModule's `name`. */
  name?: string;
  /** Sentinel `down-after-milliseconds` (default 1000): how long a silent master takes to be seen down. */
  downAfterMs?: number;
  /** Sentinel `failover-timeout`, in milliseconds (default 5000). */
  failoverTimeoutMs?: number;
  /** The program to run (default `redis-server`; sentinels run it with `--sentinel`). */
  binary?: string;
}

/**
 * A running Sentinel group: a master, its replica and 3 sentinels (quorum 2). `servers` are the master and the
 * replica; killing or freezing the master makes the sentinels promote the replica.
 */
export class RedisSentinelGroup extends RedisServerGroup {
  /**
   * Use {@link startSentinelGroup}.
   * @param name master group name
   * @param master the server started as master
   * @param replica the server started as its replica
   * @param sentinels the sentinels
   */
  constructor(
    readonly name: string,
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinels: readonly RedisServer[],
  ) {
    super([master, replica], [master, replica, ...sentinels]);
  }

  /** `[{host, port}]` of the sentinels. */
  get sentinelAddresses(): RedisNodeAddress[] {
    return this.sentinels.map((s) => ({ host: s.host, port: s.port }));
  }

  /** RedisModule connection options: `{ sentinels, name }`. */
  get connection(): RedisTopologyConnection {
    return { sentinels: this.sentinelAddresses, name: this.name };
  }

  /** A new ioredis client that asks the sentinels for the master. */
  client(options: Partial<RedisOptions> = {}): Redis {
    const c = new Redis({ sentinels: this.sentinelAddresses, name: this.name, maxRetriesPerRequest: 1, ...options });
    c.on('error', () => undefined);
    return c;
  }

  /** The server the sentinels name as master now (it changes after a failover). */
  async currentMaster(): Promise<RedisServer> {
    for (const sentinel of this.sentinels.filter((s) => s.running && !s.paused)) {
      const server = await this.masterNamedBy(sentinel);
      if (server) return server;
    }
    throw new Error(`no sentinel names a master of "${this.name}"`);
  }

  /**
   * Waits until every running, unfrozen sentinel names the same master, and it is not `previous`: the failover is
   * over everywhere, not just at the sentinel that led it. Until then a sentinel that has not yet heard of the
   * switch still gives clients the old address, so a master without persistence must not be restarted (empty)
   * before this resolves: a reconnecting client could be sent to it and find no data.
   * @param previous the master that was killed or frozen
   * @param timeoutMs how long to wait (default 30 s)
   * @returns the new master
   * @throws Error when the sentinels do not agree on a new master within `timeoutMs`
   */
  async waitForFailover(previous: RedisServer, timeoutMs = 30_000): Promise<RedisServer> {
    return waitUntil(
      async () => {
        const master = await this.agreedMaster();
        return master !== previous && master;
      },
      timeoutMs,
      `the Sentinel group "${this.name}" did not agree on a new master`,
      100,
    );
  }

  /**
   * Waits until the group is at rest: every running, unfrozen sentinel names the same master, that server has the
   * master role, and the other server is its replica with the link up. A drill that picks "the master" or "the
   * replica" to break calls this first, so that it breaks the node it means to (after a freeze that outlasted
   * `down-after-milliseconds`, the sentinels may have failed over on their own).
   * @param timeoutMs how long to wait (default 30 s)
   * @returns the master and its replica
   * @throws Error when the group does not settle within `timeoutMs`
   */
  async waitSettled(timeoutMs = 30_000): Promise<{ master: RedisServer; replica: RedisServer }> {
    return waitUntil(
      async () => {
        const master = await this.agreedMaster();
        const replica = this.servers.find((s) => s !== master);
        if (!master || !replica || !master.running || master.paused || !replica.running || replica.paused) return;
        const [masterInfo, replicaInfo] = await Promise.all([master, replica].map((s) => replicationInfo(s)));
        const synced =
          /role:master/.test(masterInfo) &&
          /role:slave/.test(replicaInfo) &&
          new RegExp(`master_port:${master.port}\\b`).test(replicaInfo) &&
          /master_link_status:up/.test(replicaInfo);
        return synced && { master, replica };
      },
      timeoutMs,
      `the Sentinel group "${this.name}" did not settle`,
      100,
    );
  }

  /** The master every running, unfrozen sentinel names, or undefined while they differ (or none answers). */
  private async agreedMaster(): Promise<RedisServer | undefined> {
    const named = await Promise.all(
      this.sentinels.filter((s) => s.running && !s.paused).map((s) => this.masterNamedBy(s)),
    );
    const first = named[0];
    return first && named.every((m) => m === first) ? first : undefined;
  }

  /** The server one sentinel names as master, or undefined when it does not answer. */
  private async masterNamedBy(sentinel: RedisServer): Promise<RedisServer | undefined> {
    const c = sentinel.client({ maxRetriesPerRequest: 0, connectTimeout: 1_000, commandTimeout: 1_000 });
    try {
      const [, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
      return this.servers.find((s) => s.port === Number(port));
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  }
}

/** `INFO replication` of a server, or '' when it does not answer. */
async function replicationInfo(server: RedisServer): Promise<string> {
  const c = server.client({ maxRetriesPerRequest: 0, connectTimeout: 1_000, commandTimeout: 1_000 });
  try {
    return await c.info('replication');
  } catch {
    return '';
  } finally {
    c.disconnect();
  }
}

/** Starts a master, one replica (synced) and 3 sentinels (quorum 2) on free ports. */
export async function startSentinelGroup(options: StartSentinelGroupOptions = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'mymaster';
  const binary = options.binary;
  const started: RedisServer[] = [];
  try {
    const master = await startRedis({ binary });
    started.push(master);
    const replica = await startRedis({ binary, args: ['--replicaof', '127.0.0.1', String(master.port)] });
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
      `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
      `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5_000}`,
      `sentinel parallel-syncs ${name} 1`,
    ].join('\n');
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startRedis({ binary, sentinelConfig: conf });
      started.push(s);
      sentinels.push(s);
    }
    return new RedisSentinelGroup(name, master, replica, sentinels);
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}
