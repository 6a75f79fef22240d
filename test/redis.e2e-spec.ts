import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster, type Redis } from 'ioredis';
import {
  InjectRedis,
  RedisConfigError,
  isRedisConnectionError,
  RedisHealthIndicator,
  RedisModule,
  RedisService,
  type RedisClient,
} from '../src';
import {
  startCluster,
  startRedis,
  startSentinelGroup,
  uniquePrefix,
  waitClusterOk,
  type RedisServer,
} from './support/redis-harness';

@Injectable()
class UsesClients {
  constructor(
    @InjectRedis() readonly main: RedisClient,
    @InjectRedis('other') readonly other: RedisClient,
  ) {}
}

describe('RedisModule (standalone)', () => {
  let server: RedisServer;
  let server2: RedisServer;
  beforeAll(async () => {
    [server, server2] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([server.stop(), server2.stop()]);
  });

  it('connects, injects named clients and exposes the key prefix', async () => {
    const prefix = uniquePrefix('redis');
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({
          clients: { default: { url: server.url }, other: { port: server2.port } },
          keyPrefix: prefix,
        }),
      ],
      providers: [UsesClients],
    }).compile();
    await ref.init();
    const svc = ref.get(RedisService);
    const uses = ref.get(UsesClients);
    expect(svc.keyPrefix).toBe(prefix);
    expect(svc.prefixFor('cache')).toBe(`${prefix}cache:`);
    await uses.main.set(`${prefix}a`, '1');
    await uses.other.set(`${prefix}b`, '2');
    const direct = server.client();
    const direct2 = server2.client();
    expect(await direct.get(`${prefix}a`)).toBe('1');
    expect(await direct2.get(`${prefix}b`)).toBe('2');
    expect(await direct2.get(`${prefix}a`)).toBeNull();
    direct.disconnect();
    direct2.disconnect();
    await ref.close();
    expect(uses.main.status).toBe('end');
  });

  it('tracks and closes dedicated connections, never a user-given client', async () => {
    const own = server.client() as Redis;
    const ref = await Test.createTestingModule({ imports: [RedisModule.forRoot({ client: own })] }).compile();
    const app = ref.createNestApplication();
    await app.init();
    const svc = app.get(RedisService);
    const sub = svc.duplicate('default', 'subscriber');
    await sub.subscribe('x');
    const health = await app.get(RedisHealthIndicator).isHealthy();
    expect(Object.keys(health.redis.clients as object)).toEqual(['default', 'default:subscriber']);
    expect(health.redis.status).toBe('up');
    await app.close();
    expect(sub.status).toBe('end');
    expect(own.status).toBe('ready');
    own.disconnect();
  });

  it('authenticates with an ACL user', async () => {
    const admin = server.client();
    const prefix = uniquePrefix('acl');
    await admin.call('ACL', 'SETUSER', 'kit', 'on', '>s3cret', `~${prefix}*`, '+@all');
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: `redis://kit:s3cret@127.0.0.1:${server.port}`, keyPrefix: prefix })],
    }).compile();
    const client = ref.get(RedisService).getClient();
    await client.set(`${prefix}k`, 'v');
    await expect(client.set('elsewhere', 'v')).rejects.toThrow(/NOPERM/);
    await ref.close();
    await admin.call('ACL', 'DELUSER', 'kit');
    admin.disconnect();
  });

  it('fails startup with a message naming the address it tried', async () => {
    const dead = await startRedis();
    const port = dead.port;
    await dead.stop();
    await expect(
      Test.createTestingModule({ imports: [RedisModule.forRoot({ port, readyTimeoutMs: 500 })] }).compile(),
    ).rejects.toThrow(new RegExp(`Could not connect to Redis at redis://127.0.0.1:${port} within 500 ms`));
  });

  it('starts without waiting with lazyConnect', async () => {
    const dead = await startRedis();
    const port = dead.port;
    await dead.kill();
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ port, lazyConnect: true })],
    }).compile();
    expect(ref.get(RedisService).getClient().status).not.toBe('ready');
    await dead.start();
    await ref.get(RedisService).getClient().ping();
    await ref.close();
    await dead.stop();
  });

  it.each([
    [{ url: 'redis://x:1', nodes: [{ host: 'a', port: 1 }] }, /"nodes".*"url"/],
    [{ url: 'not a url' }, /"url": cannot parse/],
    [{ url: 'http://localhost:6379' }, /"url": unsupported scheme/],
    [{ readyTimeoutMs: -1 }, /"readyTimeoutMs": must be a positive integer number of milliseconds, got -1/],
    [{ commandTimeoutMs: -5 }, /"commandTimeoutMs"/],
    [{ sentinels: [{ host: 'a', port: 1 }] }, /"name": is required/],
    [{ keyPrefix: 'has space' }, /"keyPrefix"/],
  ])('rejects invalid options %j', async (options, message) => {
    await expect(
      Test.createTestingModule({ imports: [RedisModule.forRoot(options as never)] }).compile(),
    ).rejects.toThrow(RedisConfigError);
    await expect(
      Test.createTestingModule({ imports: [RedisModule.forRoot(options as never)] }).compile(),
    ).rejects.toThrow(message);
  });

  it('reports a killed client as down in health', async () => {
    const victim = await startRedis();
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ clients: { default: { port: server.port }, victim: { port: victim.port } } })],
    }).compile();
    const health = ref.get(RedisHealthIndicator);
    expect((await health.isHealthy()).redis.status).toBe('up');
    await victim.kill();
    await new Promise((r) => setTimeout(r, 100));
    const down = await health.isHealthy();
    expect(down.redis.status).toBe('down');
    expect((down.redis.clients as Record<string, { status: string }>).victim.status).toBe('down');
    expect((down.redis.clients as Record<string, { status: string }>).default.status).toBe('up');
    await ref.close();
    await victim.stop();
  });
});

describe('RedisModule (cluster)', () => {
  it('reaches keys on every master through the shared client', async () => {
    const cluster = await startCluster(3);
    try {
      const ref = await Test.createTestingModule({
        imports: [RedisModule.forRoot({ nodes: cluster.seeds })],
      }).compile();
      const svc = ref.get(RedisService);
      const client = svc.getClient();
      expect(client).toBeInstanceOf(Cluster);
      expect(svc.isCluster()).toBe(true);
      const keys = Array.from({ length: 60 }, (_, i) => `${uniquePrefix('cl')}${i}`);
      await Promise.all(keys.map((k) => client.set(k, k)));
      const seen = new Set<number>();
      for (const node of cluster.nodes) {
        const c = node.client();
        if ((await c.dbsize()) > 0) seen.add(node.port);
        c.disconnect();
      }
      expect(seen.size).toBe(3);
      expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys);
      const sub = svc.duplicate('default', 'subscriber');
      await sub.subscribe('c');
      await ref.close();
    } finally {
      await cluster.stop();
    }
  });

  it('every node down: commands fail within commandTimeoutMs (no wait in the offline queue), then work again', async () => {
    const cluster = await startCluster(3);
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ nodes: cluster.seeds, keyPrefix: uniquePrefix('down'), commandTimeoutMs: 300 })],
    }).compile();
    await ref.init();
    try {
      const svc = ref.get(RedisService);
      const client = svc.getClient();
      const dedicated = svc.duplicate('default', 'other');
      await client.set('k', '1');
      await Promise.all(cluster.nodes.map((n) => n.kill()));
      // The first command goes to a node connection; the next ones wait for the reconnecting Cluster, which
      // used to hold them until it came back (no timer), so a request hung instead of getting a 503.
      for (const c of [client, client, client, dedicated]) {
        const t0 = Date.now();
        const err = await c.get('k').then(
          () => new Error('answered'),
          (e: unknown) => e,
        );
        expect(isRedisConnectionError(err)).toBe(true);
        expect(Date.now() - t0).toBeLessThan(1_500);
      }
      await Promise.all(cluster.nodes.map((n) => n.start()));
      await waitClusterOk(cluster.nodes);
      const deadline = Date.now() + 15_000;
      while ((await client.set('k', '2').catch(() => null)) !== 'OK') {
        if (Date.now() > deadline) throw new Error('the client did not come back');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await client.get('k')).toBe('2');
    } finally {
      await ref.close();
      await cluster.stop();
    }
  });
});

describe('RedisModule (sentinel)', () => {
  it('follows a failover: after the master is killed a write succeeds on the promoted replica', async () => {
    const group = await startSentinelGroup();
    try {
      const ref = await Test.createTestingModule({
        imports: [
          RedisModule.forRoot({ sentinels: group.sentinelAddresses, name: group.name, commandTimeoutMs: 1000 }),
        ],
      }).compile();
      const client = ref.get(RedisService).getClient();
      const prefix = uniquePrefix('sent');
      await client.set(`${prefix}before`, '1');
      await group.master.kill();
      const deadline = Date.now() + 30_000;
      let written = false;
      while (!written && Date.now() < deadline) {
        try {
          await client.set(`${prefix}after`, '2');
          written = true;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(written).toBe(true);
      const promoted = group.replica.client();
      expect(await promoted.get(`${prefix}after`)).toBe('2');
      expect((await promoted.info('replication')).includes('role:master')).toBe(true);
      promoted.disconnect();
      await ref.close();
    } finally {
      await group.stop();
    }
  });
});
