import { defineScript } from '../core/lua-script';

/**
 * The Lua scripts of the session feature. The index scripts take a user's three index keys (the index, the
 * metadata, the creation order), which share the hash tag `{user:<id>}` (see `SessionKeys`), so they run on a
 * Cluster.
 */

/** The header lines naming the three index keys, shared by the index scripts. */
const INDEX_KEYS = `-- KEYS[1]: the user's index (sorted set: session id -> expiry, epoch ms); KEYS[2]: the user's metadata hash;
-- KEYS[3]: the user's creation order (sorted set: session id -> creation, Redis server time in microseconds)`;

/**
 * Lua tail of the index scripts that add or move an entry: the three index keys expire `slack` ms after the user's
 * last session (the highest score), then the script returns `result`.
 * @param slack the Lua expression of the slack in ms, e.g. `ARGV[4]`
 * @param result the Lua expression returned
 */
function expireAfterLastSession(slack: string, result = '1'): string {
  return `local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local at = math.floor(tonumber(top[2])) + tonumber(${slack})
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('PEXPIREAT', KEYS[2], at)
redis.call('PEXPIREAT', KEYS[3], at)
return ${result}`;
}

/**
 * Records a new session in its user's index, enforcing the per-user limit in the same step (so logins racing on
 * several instances cannot overshoot it): entries whose expiry is older than ARGV[7] are dropped as ended, then, when
 * the user already holds ARGV[5] sessions or more, the oldest by creation are evicted (their ids are returned, for
 * the caller to delete their session keys, which live in other slots) or the session is refused. Entries without a
 * creation time (written by an older version) count as the oldest.
 */
export const INDEX_ADMIT = defineScript({
  name: 'session.indexAdmit',
  keys: 3,
  lua: `${INDEX_KEYS}
-- ARGV[1]: session id; ARGV[2]: its expiry (epoch ms); ARGV[3]: its metadata JSON; ARGV[4]: slack (ms);
-- ARGV[5]: most sessions per user, 0 for no limit; ARGV[6]: 1 to evict the oldest beyond it, 0 to refuse;
-- ARGV[7]: entries expiring before this (epoch ms) have ended and are dropped
-- Returns: {1, evicted session ids...} when the session was recorded, {0} when it was refused
local function drop(id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[7])) do drop(id) end
redis.call('ZREM', KEYS[1], ARGV[1])
local result = {1}
local max = tonumber(ARGV[5])
if max > 0 then
  local listed = redis.call('ZRANGE', KEYS[1], 0, -1)
  local excess = #listed - max + 1
  if excess > 0 then
    if ARGV[6] ~= '1' then return {0} end
    local order = {}
    for i, id in ipairs(listed) do order[i] = {id, tonumber(redis.call('ZSCORE', KEYS[3], id) or '0')} end
    table.sort(order, function(a, b)
      if a[2] ~= b[2] then return a[2] < b[2] end
      return a[1] < b[1]
    end)
    for i = 1, excess do
      drop(order[i][1])
      result[#result + 1] = order[i][1]
    end
  end
end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', now[1] .. string.format('%06d', tonumber(now[2])), ARGV[1])
${expireAfterLastSession('ARGV[4]', 'result')}`,
});

/** Moves the expiry of a session already in its user's index (an unknown session is not added). */
export const INDEX_TOUCH = defineScript({
  name: 'session.indexTouch',
  keys: 3,
  lua: `${INDEX_KEYS}
-- ARGV[1]: session id; ARGV[2]: its new expiry (epoch ms); ARGV[3]: slack (ms)
-- Returns: 1 when the session was listed and moved, 0 otherwise
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1]) == 0 then return 0 end
${expireAfterLastSession('ARGV[3]')}`,
});

/** Removes sessions from their user's index, metadata and creation order. */
export const INDEX_REMOVE = defineScript({
  name: 'session.indexRemove',
  keys: 3,
  lua: `${INDEX_KEYS}
-- ARGV: the session ids to remove
-- Returns: how many of them were listed
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return n`,
});
