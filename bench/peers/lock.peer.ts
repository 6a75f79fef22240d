/**
 * Locks: LockService acquire + release (fenced, the default, and with `fencing: false`) and `using()` vs
 * redis-semaphore's Mutex acquire + release; LockService vs `@sesamecare-oss/redlock` acquire + release;
 * SemaphoreService acquire + release vs redis-semaphore's Semaphore (2 permits per name, never all taken). Every
 * side on its defaults (lease 10 s); the peers on their own ioredis client with ioredis's defaults, as their docs
 * show. Calls cycle through 10 000 resources: no contention, and the fencing counters exist after the first lap,
 * as they do for the resources of a real service.
 */
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex, Semaphore } from 'redis-semaphore';
import { LockModule, LockService, SemaphoreService } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { featureApp, PEER_TARGET, type PeerCase, type PeerGroup } from './peer-suite';

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
    return {
      cases,
      teardown: async () => {
        await fencedApp.close();
        await unfencedApp.close();
        peerClient.disconnect();
      },
    };
  },
};
