import { defineScript } from '../core/lua-script';

/**
 * The Lua scripts of the session feature. The index scripts take a user's two index keys, which share the hash tag
 * `{user:<id>}` (see `SessionKeys`), so they run on a Cluster.
 */

/**
 * Lua tail of the index scripts that add or move an entry: both index keys expire `slack` ms after the user's last
 * session (the highest score), then the script returns 1.
 * @param slack the Lua expression of the slack in ms, e.g. `ARGV[4]`
 */
function expireAfterLastSession(slack: string): string {
  return `local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local at = math.floor(tonumber(top[2])) + tonumber(${slack})
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('PEXPIREAT', KEYS[2], at)
return 1`;
}

/** Records a session in its user's index; both keys live until the user's last session ends plus the slack. */
export const INDEX_ADD = defineScript({
  name: 'session.indexAdd',
  keys: 2,
  lua: `-- KEYS[1]: the user's index (sorted set: session id -> expiry, epoch ms); KEYS[2]: the user's metadata hash
-- ARGV[1]: session id; ARGV[2]: its expiry (epoch ms); ARGV[3]: its metadata JSON; ARGV[4]: slack (ms)
-- Returns: 1
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
${expireAfterLastSession('ARGV[4]')}`,
});

/** Moves the expiry of a session already in its user's index (an unknown session is not added). */
export const INDEX_TOUCH = defineScript({
  name: 'session.indexTouch',
  keys: 2,
  lua: `-- KEYS[1]: the user's index (sorted set); KEYS[2]: the user's metadata hash
-- ARGV[1]: session id; ARGV[2]: its new expiry (epoch ms); ARGV[3]: slack (ms)
-- Returns: 1 when the session was listed and moved, 0 otherwise
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1]) == 0 then return 0 end
${expireAfterLastSession('ARGV[3]')}`,
});

/** Removes sessions from their user's index and metadata. */
export const INDEX_REMOVE = defineScript({
  name: 'session.indexRemove',
  keys: 2,
  lua: `-- KEYS[1]: the user's index (sorted set); KEYS[2]: the user's metadata hash
-- ARGV: the session ids to remove
-- Returns: how many of them were listed
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return n`,
});

/** Counts one login attempt in a window that starts with the first attempt. */
export const LOGIN_ATTEMPT = defineScript({
  name: 'session.loginAttempt',
  keys: 1,
  lua: `-- KEYS[1]: the failed-login counter of one username + IP
-- ARGV[1]: window (ms), counted from the first attempt
-- Returns: {attempts in the window including this one, ms until the window ends}
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`,
});
