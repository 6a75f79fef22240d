/**
 * Locks: LockService acquire + release (fenced, the default, and with `fencing: false`) and `using()` vs
 * redis-semaphore's Mutex acquire + release; LockService vs `@sesamecare-oss/redlock` acquire + release;
 * SemaphoreService acquire + release vs redis-semaphore's Semaphore (2 permits per name, never all taken). Every
 * side on its defaults (lease 10 s); the peers on their own ioredis client with ioredis's defaults, as their docs
 * show. Calls cycle through 10 000 resources: no contention, and the fencing counters exist after the first lap,
 * as they do for the resources of a real service. Ceilings at 1 caller, sent bare on a plain ioredis client: the
 * Mutex's own commands (SET NX PX, then a GET + DEL script), and a fenced acquisition's least Redis work (a SET NX PX +
 * INCR script, then the GET + DEL script).
 */
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex, Semaphore } from 'redis-semaphore';
import { LockModule, LockService, SemaphoreService } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { featureApp, PEER_TARGET, type PeerCase, type PeerCeiling, type PeerGroup } from './peer-suite';

const RESOURCES = 10_000;
const TTL_MS = 10_000;
const PERMITS = 2;

export const lockPeers: PeerGroup = {
  name: 'lock',
  setup: async (server: RedisServer) => {
    const fencedApp = await featureApp(server, 'peers-lock', [LockModule.forRoot({ fencing: true })]);
    const unfencedApp = await featureApp(server, 'peers-lock-nf', [LockModule.forRoot({ fencing: false })]);
    const fenced = fencedApp.get(LockService);
    const unfenced = unfencedApp.get(LockService);
    const semaphores = fencedApp.get(SemaphoreService);
    const peerClient = new Redis(server.url);
    const redlock = new Redlock([peerClient]);
    let n = 0;
    const resource = () => `r:${n++ % RESOURCES}`;

    const ours = (locks: LockService) => async () => {
      const handle = await locks.acquire(resource(), { ttlMs: TTL_MS });
      await handle.release();
    };
    const using = async () => {
      await fenced.using(resource(), () => undefined, { ttlMs: TTL_MS });
    };
    const mutex = async () => {
      const m = new Mutex(peerClient, resource(), { lockTimeout: TTL_MS });
      await m.acquire();
      await m.release();
    };
    const ourSemaphore = async () => {
      const permit = await semaphores.acquire(resource(), { limit: PERMITS, ttlMs: TTL_MS });
      await permit.release();
    };
    const peerSemaphore = async () => {
      const semaphore = new Semaphore(peerClient, resource(), PERMITS, { lockTimeout: TTL_MS });
      await semaphore.acquire();
      await semaphore.release();
    };
    const viaRedlock = async () => {
      const lock = await redlock.acquire([`redlock:${resource()}`], TTL_MS);
      await lock.release();
    };

    const cases: PeerCase[] = [];
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'acquire+release: LockService fenced / redis-semaphore Mutex',
        callers,
        ours: ours(fenced),
        peer: mutex,
        target: PEER_TARGET,
      });
      cases.push({
        case: 'acquire+release: LockService unfenced / redis-semaphore Mutex',
        callers,
        ours: ours(unfenced),
        peer: mutex,
        target: PEER_TARGET,
      });
    }
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'LockService.using() / Mutex acquire+release',
        callers,
        ours: using,
        peer: mutex,
        target: PEER_TARGET,
      });
    }
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'acquire+release: LockService fenced / @sesamecare-oss/redlock',
        callers,
        ours: ours(fenced),
        peer: viaRedlock,
        target: PEER_TARGET,
      });
    }
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'acquire+release: SemaphoreService / redis-semaphore Semaphore',
        callers,
        ours: ourSemaphore,
        peer: peerSemaphore,
        target: PEER_TARGET,
      });
    }
    const bare = new Redis(server.url);
    const releaseSha = (await bare.script(
      'LOAD',
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )) as string;
    const fencedSha = (await bare.script(
      'LOAD',
      "if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return false end " +
        "return redis.call('INCR', KEYS[2])",
    )) as string;
    const bareUnfenced = async () => {
      const key = `peers-lock-ceiling:{${resource()}}`;
      await bare.set(key, 'v', 'PX', TTL_MS, 'NX');
      await bare.evalsha(releaseSha, 1, key, 'v');
    };
    const bareFenced = async () => {
      const key = `peers-lock-ceiling:{${resource()}}`;
      await bare.evalsha(fencedSha, 2, key, `${key}:fence`, 'v', TTL_MS);
      await bare.evalsha(releaseSha, 1, key, 'v');
    };
    const ceilings: PeerCeiling[] = [
      { case: 'SET NX PX, then GET + DEL script (the Mutex) / Mutex', callers: 1, bare: bareUnfenced, peer: mutex },
      {
        case: 'SET NX PX + INCR script, then GET + DEL script (fenced at least) / Mutex',
        callers: 1,
        bare: bareFenced,
        peer: mutex,
      },
    ];
    return {
      cases,
      ceilings,
      teardown: async () => {
        bare.disconnect();
        await fencedApp.close();
        await unfencedApp.close();
        peerClient.disconnect();
      },
    };
  },
};
