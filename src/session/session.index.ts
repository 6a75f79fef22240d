import { toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import { SessionKeys } from './session.keys';
import { INDEX_ADMIT, INDEX_REMOVE, INDEX_TOUCH } from './session.scripts';

/** Where and how a session was opened, recorded at login. */
export interface SessionMetadata {
  /** Login time, ISO 8601. */
  createdAt: string;
  /** `User-Agent` header at login (truncated to 256 characters). */
  userAgent: string;
  /** Client IP address at login. */
  ip: string;
}

/** One live session of a user, as listed by the index. */
export interface UserSessionEntry extends SessionMetadata {
  /** Session id (the value of the signed cookie). */
  id: string;
  /** When the session expires unless used again, ISO 8601. */
  expiresAt: string;
}

/** How many sessions a user may hold, and what a login beyond that does (see {@link SessionIndex.admit}). */
export interface SessionLimit {
  /** Most sessions of one user. */
  maxSessions: number;
  /** True: evict the oldest sessions to make room; false: refuse the new one. */
  evictOldest: boolean;
}

/** The outcome of {@link SessionIndex.admit}. */
export interface SessionAdmission {
  /** False when the session was refused (limit reached, policy `refuse-new`): it is not in the index. */
  admitted: boolean;
  /** Ids of the sessions evicted to make room (already out of the index; their session keys still to delete). */
  evicted: string[];
}

/**
 * Per-user index of sessions: a sorted set `<prefix>sess:{user:<id>}:index` (member = session id, score = expiry in
 * epoch ms), a hash `<prefix>sess:{user:<id>}:meta` (session id → metadata JSON) and a sorted set
 * `<prefix>sess:{user:<id>}:created` (member = session id, score = creation, Redis server time in µs: the order in
 * which a per-user limit evicts). The keys share the hash tag `{user:<id>}`, so the Lua scripts that update them
 * together run on Cluster; session keys themselves (`<prefix>sess:<id>`) live in other slots and are only ever
 * touched by separate single-key commands. The keys expire with the user's last session; entries of sessions that
 * ended are pruned on every listing and before every limited admission (checked against the session key itself,
 * so a stale score never hides a live session).
 */
export class SessionIndex {
  private readonly keys: SessionKeys;

  /**
   * @param prefix the feature prefix, e.g. `nrk:sess:`
   * @param slackMs the index keys outlive the user's last known session expiry by this much, in milliseconds
   *   (entries are refreshed lazily)
   */
  constructor(
    private readonly client: RedisClient,
    prefix: string,
    readonly slackMs = 60_000,
  ) {
    this.keys = new SessionKeys(prefix);
  }

  /** Key of a user's sorted set. */
  indexKey(userId: string): string {
    return this.keys.userIndex(userId);
  }

  /** Key of a user's metadata hash. */
  metaKey(userId: string): string {
    return this.keys.userMeta(userId);
  }

  /** Key of a user's creation-order sorted set. */
  createdKey(userId: string): string {
    return this.keys.userCreated(userId);
  }

  /** Key of one session's data. */
  sessionKey(sid: string): string {
    return this.keys.session(sid);
  }

  /** Records a new session of `userId` expiring at `expiresAtMs` (epoch ms), without a limit. */
  async add(userId: string, sid: string, expiresAtMs: number, meta: SessionMetadata): Promise<void> {
    await this.admit(userId, sid, expiresAtMs, meta);
  }

  /**
   * Records a new session of `userId` expiring at `expiresAtMs` (epoch ms) under `limit`, atomically (one Lua script
   * on the user's slot, so logins racing on several instances never overshoot): when the user already holds
   * `limit.maxSessions` sessions, the oldest by creation are evicted from the index (their ids are returned: the
   * caller deletes their session keys) or the session is refused. Entries whose expiry passed more than
   * {@link slackMs} ago are dropped first; call {@link prune} before to drop those of sessions that ended otherwise.
   */
  async admit(
    userId: string,
    sid: string,
    expiresAtMs: number,
    meta: SessionMetadata,
    limit?: SessionLimit,
  ): Promise<SessionAdmission> {
    const [admitted, ...evicted] = await this.run(
      INDEX_ADMIT.run<[number, ...string[]]>(this.client, this.userKeys(userId), [
        sid,
        Math.round(expiresAtMs),
        JSON.stringify(meta),
        this.slackMs,
        limit?.maxSessions ?? 0,
        limit?.evictOldest === false ? 0 : 1,
        Date.now() - this.slackMs,
      ]),
      'record',
    );
    return { admitted: admitted === 1, evicted };
  }

  /**
   * Moves a known session's expiry (sliding sessions); unknown sessions are not added. The index keys expire
   * {@link slackMs} after the last session, to cover entries refreshed less often than the sessions themselves.
   */
  async touch(userId: string, sid: string, expiresAtMs: number): Promise<void> {
    await this.run(
      INDEX_TOUCH.run(this.client, this.userKeys(userId), [sid, Math.round(expiresAtMs), this.slackMs]),
      'update',
    );
  }

  /** Removes sessions from the index; resolves how many were listed. */
  async remove(userId: string, sids: string[]): Promise<number> {
    if (sids.length === 0) return 0;
    return this.run(INDEX_REMOVE.run<number>(this.client, this.userKeys(userId), sids), 'update');
  }

  /** True when `sid` is listed for `userId`. */
  async has(userId: string, sid: string): Promise<boolean> {
    return (await this.run(this.client.zscore(this.indexKey(userId), sid), 'read')) !== null;
  }

  /** The ids of every session listed for `userId` (ended ones included until the next {@link list}). */
  ids(userId: string): Promise<string[]> {
    return this.run(this.client.zrange(this.indexKey(userId), '0', '-1'), 'read');
  }

  /**
   * The user's live sessions, newest first. Each listed id is checked against its session key (PTTL, one
   * single-key command each): ended sessions are pruned from the index, expiries are refreshed.
   */
  async list(userId: string): Promise<UserSessionEntry[]> {
    const idx = this.indexKey(userId);
    const [flat, meta] = await this.run(
      Promise.all([this.client.zrange(idx, '0', '-1', 'WITHSCORES'), this.client.hgetall(this.metaKey(userId))]),
      'read',
    );
    const ids: string[] = [];
    for (let i = 0; i < flat.length; i += 2) ids.push(flat[i]);
    const ttls = await this.ttlsOf(ids);
    const now = Date.now();
    const dead: string[] = [];
    const live: UserSessionEntry[] = [];
    ids.forEach((sid, i) => {
      const ttl = ttls[i];
      if (ttl === -2) {
        dead.push(sid);
        return;
      }
      let m: Partial<SessionMetadata> = {};
      try {
        m = JSON.parse(meta[sid] ?? '{}') as Partial<SessionMetadata>;
      } catch {
        // metadata is informative only
      }
      const expiresAtMs = ttl >= 0 ? now + ttl : Number(flat[i * 2 + 1]);
      live.push({
        id: sid,
        createdAt: m.createdAt ?? '',
        userAgent: m.userAgent ?? '',
        ip: m.ip ?? '',
        expiresAt: new Date(expiresAtMs).toISOString(),
      });
    });
    if (dead.length > 0) await this.remove(userId, dead);
    return live.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Drops the entries of `userId` whose session key no longer exists (expired, destroyed by a login's new id,
   * deleted by hand); resolves how many. One PTTL per listed session: for a login, not per request.
   */
  async prune(userId: string): Promise<number> {
    const ids = await this.ids(userId);
    const ttls = await this.ttlsOf(ids);
    return this.remove(
      userId,
      ids.filter((_sid, i) => ttls[i] === -2),
    );
  }

  /** The PTTL of each session key (-2: gone), one single-key command each (other slots on a Cluster). */
  private ttlsOf(ids: string[]): Promise<number[]> {
    return this.run(Promise.all(ids.map((sid) => this.client.pttl(this.sessionKey(sid)))), 'read');
  }

  /** The user's three index keys, in the order the index scripts take them. */
  private userKeys(userId: string): string[] {
    return [this.indexKey(userId), this.metaKey(userId), this.createdKey(userId)];
  }

  /** The outcome of `work`; an unreachable Redis becomes a `RedisUnavailableError` naming what failed. */
  private async run<T>(work: Promise<T>, what: 'read' | 'record' | 'update'): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw toRedisUnavailable(err, `Could not ${what} the user's session index`);
    }
  }
}
