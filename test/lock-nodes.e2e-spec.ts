/**
 * Locks across processes and on independent nodes (Redlock quorum): two service processes x 50 concurrent
 * non-atomic increments give the exact count; with 3 nodes, one killed mid-run, the quorum holds, the count is
 * exact and no call hangs; with 2 of 3 down, acquire fails fast with RedisUnavailableError.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LockModule, LockService, RedisModule, RedisUnavailableError } from '../src';
import { startIndependent, startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';
import { sleep } from '../src/core/deadline';

const execFileAsync = promisify(execFile);

interface WorkerResult {
  done: number;
  fences: number[];
}

async function runWorker(env: Record<string, string>): Promise<WorkerResult> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['-r', join(__dirname, '../scripts/swc-register.cjs'), join(__dirname, 'lock/lock-worker.ts')],
    { env: { ...process.env, ...env }, timeout: 90_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string) as WorkerResult;
}

async function lockApp(redisUrl: string, keyPrefix: string, nodes: string[]): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: redisUrl, keyPrefix }),
      LockModule.forRoot({ nodes, nodeCommandTimeoutMs: 300, retryDelayMs: 20, jitterMs: 10 }),
    ],
  }).compile();
  await ref.init();
  return ref;
}

describe('Locks across processes', () => {
  let server: RedisServer;
  let nodes: RedisServer[];
  beforeAll(async () => {
    [server, ...nodes] = await Promise.all([startRedis(), ...Array.from({ length: 3 }, () => startRedis())]);
  });
  afterAll(async () => {
    await Promise.all([server, ...nodes].map((s) => s?.stop()));
  });

  it('two service processes x 50 concurrent increments under the lock give exactly 100', async () => {
    const prefix = uniquePrefix('procs');
    const key = `${prefix}counter`;
    const env = { REDIS_URL: server.url, KEY_PREFIX: prefix, KEY: key, RESOURCE: 'counter:p', COUNT: '50' };
    const [a, b] = await Promise.all([runWorker(env), runWorker(env)]);
    expect(a.done + b.done).toBe(100);
    const direct = server.client();
    expect(await direct.get(key)).toBe('100');
    // Fencing tokens: one per acquisition, all distinct across both processes.
    expect(new Set([...a.fences, ...b.fences]).size).toBe(100);
    direct.disconnect();
  });

  it('the same on 3 independent nodes (quorum), from two processes', async () => {
    const prefix = uniquePrefix('procs3');
    const key = `${prefix}counter`;
    const env = {
      REDIS_URL: server.url,
      KEY_PREFIX: prefix,
      KEY: key,
      RESOURCE: 'counter:q',
      COUNT: '50',
      LOCK_NODES: nodes.map((n) => n.url).join(','),
    };
    const [a, b] = await Promise.all([runWorker(env), runWorker(env)]);
    expect(a.done + b.done).toBe(100);
    const direct = server.client();
    expect(await direct.get(key)).toBe('100');
    direct.disconnect();
  });
});

describe('Locks on 3 independent nodes', () => {
  let counterServer: RedisServer;
  let nodes: RedisServer[];
  beforeAll(async () => {
    counterServer = await startRedis();
    nodes = await startIndependent(3);
  });
  afterAll(async () => {
    await Promise.all([counterServer, ...nodes].map((s) => s?.stop()));
  });

  it('one node killed mid-run: the quorum holds, the count is exact, no call exceeds ttl + wait budget', async () => {
    const prefix = uniquePrefix('quorum');
    const urls = nodes.map((n) => n.url);
    const [a, b] = await Promise.all([
      lockApp(counterServer.url, prefix, urls),
      lockApp(counterServer.url, prefix, urls),
    ]);
    try {
      const counter = counterServer.client();
      const key = `${prefix}counter`;
      const ttlMs = 2_000;
      const waitMs = 30_000;
      const durations: number[] = [];
      const calls = [a, b].flatMap((ref) =>
        Array.from({ length: 50 }, async () => {
          const t0 = Date.now();
          await ref.get(LockService).using(
            'counter:k',
            async () => {
              const v = Number((await counter.get(key)) ?? 0);
              await sleep(2);
              await counter.set(key, String(v + 1));
            },
            { ttlMs, waitMs },
          );
          durations.push(Date.now() - t0);
        }),
      );
      await sleep(100);
      await nodes[1].kill(); // SIGKILL one of three in the middle of the run
      await Promise.all(calls);
      expect(await counter.get(key)).toBe('100');
      expect(Math.max(...durations)).toBeLessThan(ttlMs + waitMs);
      expect(a.get(LockService).quorum).toBe(2);
      // A lock taken now is on the 2 live nodes; the dead one is a vote against, not a hang.
      const t0 = Date.now();
      const h = await a.get(LockService).acquire('after:kill', { ttlMs: 1_000 });
      expect(Date.now() - t0).toBeLessThan(1_000);
      await h.release();
      counter.disconnect();
    } finally {
      await Promise.all([a.close(), b.close()]);
      await nodes[1].start().catch(() => undefined);
    }
  });

  it('2 of 3 nodes down (one killed, one frozen): RedisUnavailableError within the command timeout, no hang', async () => {
    const prefix = uniquePrefix('noquorum');
    const ref = await lockApp(
      counterServer.url,
      prefix,
      nodes.map((n) => n.url),
    );
    try {
      await nodes[0].kill();
      nodes[2].pause();
      const t0 = Date.now();
      const err = await ref
        .get(LockService)
        .acquire('x', { ttlMs: 1_000, waitMs: 20_000 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      nodes[2].resume();
      await ref.close();
    }
  });
});
