import { Inject, Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CacheService } from '../cache/cache.service';
import type { CacheStats } from '../cache/cache.stats';
import type { MessagingCounters, MessagingStats } from '../messaging/messaging.stats';
import { RedisService } from '../redis/redis.service';
import type { ScheduledJobState, ScheduleService } from '../schedule/schedule.service';
import type { ListedSession, SessionAuthService } from '../session/session-auth.service';
import { ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import { AdminFeatureAbsentError } from './admin.errors';
import { mastersOf } from './admin.keyspace';
import type { ResolvedAdminOptions } from './admin.options';

/** Facts of one Redis server (INFO), per master on a Cluster. */
export interface AdminServerView {
  /** `host:port` of the node. */
  node: string;
  /** `redis_version`. */
  version: string;
  /** `role` (master, slave). */
  role: string;
  /** Memory used, in bytes. */
  usedMemoryBytes: number;
  /** `maxmemory` in bytes (0: no limit). */
  maxMemoryBytes: number;
  /** Commands per second, as the server measures them. */
  opsPerSecond: number;
  /** Connected clients. */
  clients: number;
  /** Uptime in seconds. */
  uptimeSeconds: number;
  /** Keys in db0. */
  keys: number;
}

/** Cache counters with the derived hit ratio. */
export interface AdminCacheView extends CacheStats {
  /** hits / (hits + misses), null before any read. */
  hitRatio: number | null;
}

/** What the page polls for its charts: every number here only grows but the server's `opsPerSecond`. */
export interface AdminOverview {
  /** Server time of the answer (epoch ms), for rates between two polls. */
  atMs: number;
  /** Whether changes are refused. */
  readOnly: boolean;
  /** Which optional features this application has. */
  features: { sessions: boolean; cache: boolean; schedule: boolean; messaging: boolean };
  /** Messaging counters of this process, when it has the messaging feature. */
  messaging: MessagingCounters | null;
  /** Cache counters of this process, when it has the cache feature. */
  cache: AdminCacheView | null;
  /** Sum of `opsPerSecond` over the masters. */
  opsPerSecond: number;
}

/**
 * The class exported by `file` (a feature's service), or undefined when the feature's optional packages are not
 * installed. Loaded at runtime, not imported: the admin entry alone loads no other feature's packages.
 */
function featureClass(file: string, name: string): Type | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(file) as Record<string, Type | undefined>)[name];
  } catch {
    return undefined;
  }
}

/**
 * The other features, seen through their public services when the application has them (a feature it does not use
 * is reported absent): sessions of a user, cache counters and clear, scheduled jobs, messaging counters, and the
 * Redis server's own facts.
 */
@Injectable()
export class AdminFeaturesService {
  private readonly found = new Map<string, unknown>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly redis: RedisService,
    @Inject(ADMIN_RESOLVED_OPTIONS) private readonly options: ResolvedAdminOptions,
  ) {}

  private optional<T>(file: string, name: string): T | undefined {
    if (!this.found.has(name)) {
      const type = featureClass(file, name);
      let instance: unknown;
      try {
        instance = type ? this.moduleRef.get(type, { strict: false }) : undefined;
      } catch {
        instance = undefined; // the application does not use this feature
      }
      this.found.set(name, instance);
    }
    return this.found.get(name) as T | undefined;
  }

  private get sessions(): SessionAuthService | undefined {
    return this.optional<SessionAuthService>('../session/session-auth.service', 'SessionAuthService');
  }

  private get cache(): CacheService | undefined {
    return this.optional<CacheService>('../cache/cache.service', 'CacheService');
  }

  private get schedule(): ScheduleService | undefined {
    return this.optional<ScheduleService>('../schedule/schedule.service', 'ScheduleService');
  }

  private get messaging(): MessagingStats | undefined {
    return this.optional<MessagingStats>('../messaging/messaging.stats', 'MessagingStats');
  }

  private need<T>(service: T | undefined, feature: string): T {
    if (!service) throw new AdminFeatureAbsentError(`this application has no ${feature}`);
    return service;
  }

  /** The counters the page charts, and which features are there. */
  async overview(): Promise<AdminOverview> {
    const servers = await this.servers();
    return {
      atMs: Date.now(),
      readOnly: this.options.readOnly,
      features: {
        sessions: this.sessions !== undefined,
        cache: this.cache !== undefined,
        schedule: this.schedule !== undefined,
        messaging: this.messaging !== undefined,
      },
      messaging: this.messaging?.snapshot() ?? null,
      cache: this.cache ? this.cacheStats() : null,
      opsPerSecond: servers.reduce((sum, s) => sum + s.opsPerSecond, 0),
    };
  }

  /** A user's live sessions, newest first. */
  listSessions(userId: string): Promise<ListedSession[]> {
    return this.need(this.sessions, 'sessions (SessionModule)').listSessions(userId);
  }

  /** Revokes one session of a user; false when it is not one of theirs. */
  revokeSession(userId: string, sid: string): Promise<boolean> {
    return this.need(this.sessions, 'sessions (SessionModule)').revokeSession(userId, sid);
  }

  /** Revokes every session of a user; resolves how many. */
  revokeAllSessions(userId: string): Promise<number> {
    return this.need(this.sessions, 'sessions (SessionModule)').revokeAllSessions(userId);
  }

  /** Cache counters of this process with the hit ratio. */
  cacheStats(): AdminCacheView {
    const stats = { ...this.need(this.cache, 'cache (RedisCacheModule)').stats };
    const reads = stats.hits + stats.misses;
    return { ...stats, hitRatio: reads > 0 ? stats.hits / reads : null };
  }

  /** Clears the cache's namespace (every master); resolves the keys removed. */
  clearCache(): Promise<number> {
    return this.need(this.cache, 'cache (RedisCacheModule)').clear();
  }

  /** The scheduled jobs as this instance sees them (next run, last run, runs and failures). */
  jobs(): ScheduledJobState[] {
    return this.need(this.schedule, 'scheduled jobs (RedisScheduleModule)').jobs();
  }

  /** INFO of every master (the one server when not a Cluster). */
  async servers(): Promise<AdminServerView[]> {
    const client = this.redis.getClient(this.options.clientName);
    return Promise.all(
      mastersOf(client).map(async (node) => {
        const info = parseInfo(await node.info());
        return {
          node: `${node.options.host ?? '?'}:${node.options.port ?? '?'}`,
          version: info.redis_version ?? '',
          role: info.role ?? '',
          usedMemoryBytes: Number(info.used_memory ?? 0),
          maxMemoryBytes: Number(info.maxmemory ?? 0),
          opsPerSecond: Number(info.instantaneous_ops_per_sec ?? 0),
          clients: Number(info.connected_clients ?? 0),
          uptimeSeconds: Number(info.uptime_in_seconds ?? 0),
          keys: Number(/keys=(\d+)/.exec(info.db0 ?? '')?.[1] ?? 0),
        };
      }),
    );
  }
}

/** Parses INFO text into `field → value`. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
