import { defineScript } from '../core/lua-script';

/**
 * The cache's Lua scripts. Each touches one key, so it runs on any node of a Cluster (a tag's version key carries
 * the tag as its hash tag).
 */

/** Reads a tag's version, creating it when missing, and makes the key live at least `ttlMs` more. */
export const TOUCH_TAG = defineScript({
  name: 'cache.touchTag',
  keys: 1,
  lua: `-- KEYS[1]: the tag's version key, <prefix>cache:tag:{<tag>}
-- ARGV[1]: how long the version must live at least, in milliseconds
-- Returns: the version (a string); a new one is the Redis TIME in microseconds, so a tag that expired and is
--          created again never repeats an older version
local v = redis.call('GET', KEYS[1])
local ttl = tonumber(ARGV[1])
if not v then
  local t = redis.call('TIME')
  v = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[1], v, 'PX', ttl)
  return v
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl >= 0 and pttl < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return v`,
});

/** Invalidates a tag: increments its version when entries carry it. */
export const BUMP_TAG = defineScript({
  name: 'cache.bumpTag',
  keys: 1,
  lua: `-- KEYS[1]: the tag's version key, <prefix>cache:tag:{<tag>}
-- ARGV: none
-- Returns: the new version, or 0 when the key is absent (no live entry carries the tag: nothing to do)
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end
return 0`,
});

/** Releases a loader lock only when it still holds our token (it may have expired and been taken by another). */
export const RELEASE_LOADER_LOCK = defineScript({
  name: 'cache.releaseLoaderLock',
  keys: 1,
  lua: `-- KEYS[1]: the loader lock, <prefix>cache:lock:<key>
-- ARGV[1]: our token
-- Returns: 1 when deleted, 0 when it held another token or was gone
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
});
