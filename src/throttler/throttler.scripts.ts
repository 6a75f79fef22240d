import { defineScript } from '../core/lua-script';

/**
 * One hit of a fixed-window rate limiter with a block marker. Both keys share one hash tag
 * (`<prefix>throttle:{<throttler>:<tracker>}`), so the script runs on Cluster.
 */
export const THROTTLE_HIT = defineScript({
  name: 'throttler.hit',
  keys: 2,
  lua: `-- KEYS[1]: the hit counter of the current window, <prefix>throttle:{<throttler>:<tracker>}
-- KEYS[2]: the block marker, KEYS[1] .. ':block' (holds the hit count that caused the block)
-- ARGV[1]: window length in milliseconds; ARGV[2]: hits allowed per window; ARGV[3]: block length in ms (0: none)
-- Returns: {hits, ms until the window ends, 1 when blocked else 0, ms until the block ends (0 when not blocked)}
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  return {tonumber(redis.call('GET', KEYS[2]) or ARGV[2]), math.max(redis.call('PTTL', KEYS[1]), 0), 1, blockTtl}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  local blockMs = tonumber(ARGV[3])
  if blockMs > 0 then
    redis.call('SET', KEYS[2], hits, 'PX', blockMs)
    redis.call('DEL', KEYS[1])
    return {hits, 0, 1, blockMs}
  end
  return {hits, ttl, 1, ttl}
end
return {hits, ttl, 0, 0}`,
});
