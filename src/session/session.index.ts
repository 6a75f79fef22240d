import type { RedisClient } from '../redis/redis.options';

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

const ADD_LUA = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local at = math.floor(tonumber(top[2])) + tonumber(ARGV[4])
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('PEXPIREAT', KEYS[2], at)
return 1`;

const TOUCH_LUA = `
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1]) == 0 then return 0 end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local at = math.floor(tonumber(top[2])) + tonumber(ARGV[3])
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('PEXPIREAT', KEYS[2], at)
return 1`;

const REMOVE_LUA = `
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return n`;

interface IndexCommands {
  nrkSessIndexAdd(
    index: string,
    meta: string,
    sid: string,
    expiresAtMs: number,
    metaJson: string,
    slackMs: number,
  ): Promise<number>;
  nrkSessIndexTouch(index: string, meta: string, sid: string, expiresAtMs: number, slackMs: number): Promise<number>;
  nrkSessIndexRemove(index: string, meta: string, ...sids: string[]): Promise<number>;
}

/**
 * Per-user index of sessions: a sorted set `<prefix>sess:{user:<id>}:index` (member = session id, score = expiry in
 * epoch ms) and a hash `<prefix>sess:{user:<id>}:meta` (session id → metadata JSON). Both keys share the hash tag
 * `{user:<id>}`, so the Lua scripts that update them together run on Cluster; session keys themselves
 * (`<prefix>sess:<id>`) live in other slots and are only ever touched by separate single-key commands.
 * Both keys expire with the user's last session; entries of sessions that ended are pruned on every listing
 * (checked against the session key itself, so a stale score never hides a live session).
 */
export class SessionIndex {
  constructor(
    private readonly client: RedisClient,
    /** Feature prefix, e.g. `nrk:sess:`. */
    private readonly prefix: string,
    /** The index keys outlive the user's last known session expiry by this much (entries are refreshed lazily). */
    readonly slackMs = 60_000,
  ) {
    const c = client as RedisClient & Partial<IndexCommands>;
    if (!c.nrkSessIndexAdd) client.defineCommand('nrkSessIndexAdd', { numberOfKeys: 2, lua: ADD_LUA });
    if (!c.nrkSessIndexTouch) client.defineCommand('nrkSessIndexTouch', { numberOfKeys: 2, lua: TOUCH_LUA });
    if (!c.nrkSessIndexRemove) client.defineCommand('nrkSessIndexRemove', { numberOfKeys: 2, lua: REMOVE_LUA });
  }

  private get commands(): IndexCommands {
    return this.client as unknown as IndexCommands;
  }

  /** Key of a user's sorted set. */
  indexKey(userId: string): string {
    return `${this.prefix}{user:${userId}}:index`;
  }

  /** Key of a user's metadata hash. */
  metaKey(userId: string): string {
    return `${this.prefix}{user:${userId}}:meta`;
  }

  /** Key of one session's data. */
  sessionKey(sid: string): string {
    return `${this.prefix}${sid}`;
  }

  /** Records a new session of `userId` expiring at `expiresAtMs` (epoch ms). */
  async add(userId: string, sid: string, expiresAtMs: number, meta: SessionMetadata): Promise<void> {
    await this.commands.nrkSessIndexAdd(
      this.indexKey(userId),
      this.metaKey(userId),
      sid,
      Math.round(expiresAtMs),
      JSON.stringify(meta),
      this.slackMs,
    );
  }

  /**
   * Moves a known session's expiry (sliding sessions); unknown sessions are not added. The index keys expire
   * {@link slackMs} after the last session, to cover entries refreshed less often than the sessions themselves.
   */
  async touch(userId: string, sid: string, expiresAtMs: number): Promise<void> {
    await this.commands.nrkSessIndexTouch(
      this.indexKey(userId),
      this.metaKey(userId),
      sid,
      Math.round(expiresAtMs),
      this.slackMs,
    );
  }

  /** Removes sessions from the index; resolves how many were listed. */
  async remove(userId: string, sids: string[]): Promise<number> {
    if (sids.length === 0) return 0;
    return this.commands.nrkSessIndexRemove(this.indexKey(userId), this.metaKey(userId), ...sids);
  }

  /** True when `sid` is listed for `userId`. */
  async has(userId: string, sid: string): Promise<boolean> {
    return (await this.client.zscore(this.indexKey(userId), sid)) !== null;
  }

  /**
   * The user's live sessions, newest first. Each listed id is checked against its session key (PTTL, one
   * single-key command each): ended sessions are pruned from the index, expiries are refreshed.
   */
  async list(userId: string): Promise<UserSessionEntry[]> {
    const idx = this.indexKey(userId);
    const [flat, meta] = await Promise.all([
      this.client.zrange(idx, '0', '-1', 'WITHSCORES'),
      this.client.hgetall(this.metaKey(userId)),
    ]);
    const ids: string[] = [];
    for (let i = 0; i < flat.length; i += 2) ids.push(flat[i]);
    const ttls = await Promise.all(ids.map((sid) => this.client.pttl(this.sessionKey(sid))));
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
}
