import { Redis, type RedisOptions } from 'ioredis';
import type { RedisNodeAddress } from '../redis';
import { startRedis, type RedisServer } from './redis-server';
import type { RedisTopologyConnection } from './redis-topology.types';
import { RedisServerGroup } from './topology.helpers';
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
      const c = sentinel.client({ maxRetriesPerRequest: 0, connectTimeout: 1_000 });
      try {
        const [, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
        const server = this.servers.find((s) => s.port === Number(port));
        if (server) return server;
      } catch {
        // ask the next sentinel
      } finally {
        c.disconnect();
      }
    }
    throw new Error(`no sentinel names a master of "${this.name}"`);
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
