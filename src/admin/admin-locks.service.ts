import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis.options';
import { RedisService } from '../redis/redis.service';
import { ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import { prefixPattern, scanKeys } from './admin.keyspace';
import type { ResolvedAdminOptions } from './admin.options';

/** A lock held now. */
export interface AdminLockView {
  /** The resource locked (the name given to the lock). */
  resource: string;
  /** The holder's lock value: `<process id>:<sequence>`, the same in every lock that process holds. */
  holder: string;
  /** Lease left in milliseconds (-1: no expiry). */
  leaseLeftMs: number;
  /** The resource's last fencing token, or null when fencing is off for it. */
  fence: number | null;
}

/** A semaphore with permits held now. */
export interface AdminSemaphoreView {
  /** The semaphore's name. */
  name: string;
  /** Permits held: permit id and lease left in milliseconds. */
  permits: Array<{ holder: string; leaseLeftMs: number }>;
}

/** Locks and semaphores found by one listing. */
export interface AdminLocksView {
  /** Locks held, sorted by resource. */
  locks: AdminLockView[];
  /** Semaphores with live permits, sorted by name. */
  semaphores: AdminSemaphoreView[];
  /** True when more keys matched than `maxListed`. */
  truncated: boolean;
}

/** The resource name of a tagged key part: `{inventory:a}` → `inventory:a`, `{order:1}:x` stays. */
function resourceOf(tagged: string): string {
  return /^\{[^{}]+\}$/.test(tagged) ? tagged.slice(1, -1) : tagged;
}

/**
 * Locks and semaphores held, for the operations page: a SCAN of `<prefix>lock:*` with a COUNT hint on every master
 * (the shared client, so a Cluster is scanned node by node), then each key's value, lease and fence. Locks held on
 * independent lock nodes (`LockModule` `nodes`) are not on the shared client and are not listed.
 */
@Injectable()
export class AdminLocksService {
  constructor(
    private readonly redis: RedisService,
    @Inject(ADMIN_RESOLVED_OPTIONS) private readonly options: ResolvedAdminOptions,
  ) {}

  /** Every lock and semaphore held now (at most `maxListed` keys). */
  async list(): Promise<AdminLocksView> {
    const client = this.redis.getClient(this.options.clientName);
    const prefix = this.redis.prefixFor('lock');
    const { keys, truncated } = await scanKeys(
      client,
      prefixPattern(prefix),
      this.options.scanCount,
      this.options.maxListed,
    );
    const [seconds, micros] = (await client.time()) as [string | number, string | number];
    const nowMs = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
    const locks: AdminLockView[] = [];
    const semaphores: AdminSemaphoreView[] = [];
    await Promise.all(
      keys.map(async (key) => {
        const rest = key.slice(prefix.length);
        if (rest.startsWith('fence:')) return;
        if (rest.startsWith('sem:')) {
          const view = await this.semaphore(client, key, resourceOf(rest.slice(4)), nowMs);
          if (view.permits.length > 0) semaphores.push(view);
          return;
        }
        const lock = await this.lock(client, key, prefix, rest);
        if (lock) locks.push(lock);
      }),
    );
    locks.sort((a, b) => a.resource.localeCompare(b.resource));
    semaphores.sort((a, b) => a.name.localeCompare(b.name));
    return { locks, semaphores, truncated };
  }

  private async lock(client: RedisClient, key: string, prefix: string, rest: string): Promise<AdminLockView | null> {
    try {
      const [holder, leaseLeftMs, fence] = await Promise.all([
        client.get(key),
        client.pttl(key),
        client.get(`${prefix}fence:${rest}`),
      ]);
      if (holder === null || leaseLeftMs === -2) return null; // released meanwhile
      return { resource: resourceOf(rest), holder, leaseLeftMs, fence: fence === null ? null : Number(fence) };
    } catch (err) {
      if (/WRONGTYPE/.test((err as Error).message)) return null; // not a lock
      throw err;
    }
  }

  private async semaphore(client: RedisClient, key: string, name: string, nowMs: number): Promise<AdminSemaphoreView> {
    const flat = await client.zrangebyscore(key, `(${nowMs}`, '+inf', 'WITHSCORES');
    const permits: AdminSemaphoreView['permits'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      permits.push({ holder: flat[i], leaseLeftMs: Math.max(0, Number(flat[i + 1]) - nowMs) });
    }
    return { name, permits };
  }
}
