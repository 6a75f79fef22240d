import { defineScript } from './lua-script';

/*
 * The rate decisions (shared by the rate limits, the @nestjs/throttler storage and the login throttle): one script per algorithm, each one Lua call on the key(s) of one limit and one client.
 * Every script answers the same four integers, "<allowed> <remaining or count> <reset ms> <retry-after ms>", in one
 * string (`string.format('%d ...')`: a Lua table as the reply costs Redis more to build and answer), so one reply
 * parser serves all of them ({@link parseDecisionReply}). The clock is Redis's (`TIME`, or a key's expiry for the fixed window): the decision of
 * every instance of a service is taken on one clock, whatever the clocks of the machines running them.
 */

/**
 * Lua for both fixed windows: sets `ttl` to the ms left in the window of counter KEYS[1], which the call just raised to
 * `hits` by `added`. A counter just created (`hits == added`), or one without an expiry, gets the window length
 * (ARGV[1]) as its expiry, without a PTTL read for the new one.
 */
function windowTtl(added: string): string {
  return `local ttl = -1
if hits ~= ${added} then ttl = redis.call('PTTL', KEYS[1]) end
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end`;
}

/**
 * Fixed window in limiter mode (refused calls cost nothing, no block: rate limits, the login throttle): a counter
 * anchored at the first call, expiring `windowMs` after it was created. One key, counted first: an `INCRBY`, taken
 * back with `DECRBY` only when refused, and no `PTTL` for a counter just created.
 */
export const FIXED_WINDOW = defineScript({
  name: 'rate.fixedWindow',
  keys: 1,
  lua: `-- KEYS[1]: the counter of the current window, <prefix>{<limit>:<key>}
-- ARGV[1]: window length in ms; ARGV[2]: limit per window; ARGV[3]: cost of this call
-- Returns: "<1 allowed / 0 refused> <count in the window> <ms until the window ends> <ms until a retry can be
--   allowed, 0 when allowed>" (one string: cheaper for Redis to answer than a table)
local cost = tonumber(ARGV[3])
local hits = redis.call('INCRBY', KEYS[1], cost)
-- hits == cost: the counter was just created (cost <= limit, so a refused call never leaves a counter at 0)
${windowTtl('cost')}
if hits > tonumber(ARGV[2]) then
  return string.format('0 %d %d %d', redis.call('DECRBY', KEYS[1], cost), ttl, ttl)
end
return string.format('1 %d %d 0', hits, ttl)`,
});

/**
 * Fixed window in throttler mode, for `RedisThrottlerStorage` (@nestjs/throttler): every hit counted, refused ones
 * too, and a block marker once over the limit (when a block length is set). Both keys share one hash tag.
 */
export const FIXED_WINDOW_BLOCKING = defineScript({
  name: 'rate.fixedWindowBlocking',
  keys: 2,
  lua: `-- KEYS[1]: the counter of the current window, <prefix>{<tracker>:<throttler>}
-- KEYS[2]: the block marker, KEYS[1] .. ':block' (holds the count that caused the block)
-- ARGV[1]: window length in ms; ARGV[2]: limit per window; ARGV[3]: block length in ms (0: none)
-- Returns: "<1 allowed / 0 refused> <count in the window, the refused hit included> <ms until the window ends>
--   <ms until a retry can be allowed, 0 when allowed>"
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  local count = tonumber(redis.call('GET', KEYS[2]) or ARGV[2])
  return string.format('0 %d %d %d', count, math.max(redis.call('PTTL', KEYS[1]), 0), blockTtl)
end
local hits = redis.call('INCR', KEYS[1])
${windowTtl('1')}
if hits > tonumber(ARGV[2]) then
  local blockMs = tonumber(ARGV[3])
  if blockMs > 0 then
    redis.call('SET', KEYS[2], hits, 'PX', blockMs)
    redis.call('DEL', KEYS[1])
    return string.format('0 %d 0 %d', hits, blockMs)
  end
  return string.format('0 %d %d %d', hits, ttl, ttl)
end
return string.format('1 %d %d 0', hits, ttl)`,
});

/**
 * Sliding window, weighted counter: the count of the current fixed window plus the count of the previous one
 * weighted by the share of it the sliding window still covers. One hash per limit and client.
 */
export const SLIDING_WINDOW = defineScript({
  name: 'rate.slidingWindow',
  keys: 1,
  lua: `-- KEYS[1]: hash {s = start of the current fixed window (ms), c = its count, p = the previous window's count}
-- ARGV[1]: window length in ms; ARGV[2]: limit per window; ARGV[3]: cost of this call
-- Returns: "<1 allowed / 0 refused> <remaining> <ms until the whole limit is available again> <ms until a retry
--   can be allowed, 0 when allowed>"
local windowMs = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = now - (now % windowMs)
local elapsed = now - start
local s = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
local stored = tonumber(s[1])
local cur = tonumber(s[2]) or 0
local prev = tonumber(s[3]) or 0
if stored ~= start then
  if stored == start - windowMs then prev = cur else prev = 0 end
  cur = 0
end
local used = prev * (windowMs - elapsed) / windowMs + cur
if used + cost > limit then
  local retry
  if cur + cost <= limit then
    retry = windowMs * (1 - (limit - cur - cost) / prev) - elapsed
  else
    retry = windowMs - elapsed + windowMs * math.max(0, 1 - (limit - cost) / cur)
  end
  local reset = windowMs - elapsed
  if cur > 0 then reset = reset + windowMs end
  return string.format('0 %d %d %d', math.max(0, math.floor(limit - used)), math.ceil(reset), math.max(1, math.ceil(retry)))
end
if stored == start then
  redis.call('HINCRBY', KEYS[1], 'c', cost)
else
  -- a new window: the hash lives until the end of the next one (when this window's count stops mattering)
  redis.call('HSET', KEYS[1], 's', start, 'c', cost, 'p', prev)
  redis.call('PEXPIRE', KEYS[1], 2 * windowMs - elapsed)
end
return string.format('1 %d %d 0', math.max(0, math.floor(limit - used - cost)), 2 * windowMs - elapsed)`,
});

/**
 * Token bucket: `burst` tokens at most, refilled at `ratePerSec`; a call takes `cost` tokens or is refused (and
 * takes none). One string per limit and client, `"<tokens> <ms>"` (written with one SET ... PX: a hash took an HSET
 * and a PEXPIRE), gone once the bucket is full again. A hash `{t, at}` (the earlier layout) is still read, and
 * replaced by the string on the next allowed call.
 */
export const TOKEN_BUCKET = defineScript({
  name: 'rate.tokenBucket',
  keys: 1,
  lua: `-- KEYS[1]: string "<tokens left after the last allowed call> <its time in ms>" (Redis clock, fractional; %.17g)
-- ARGV[1]: refill rate in tokens per second; ARGV[2]: bucket size (burst); ARGV[3]: cost of this call
-- Returns: "<1 allowed / 0 refused> <whole tokens left> <ms until the bucket is full again> <ms until a retry can
--   be allowed, 0 when allowed>"
local perMs = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tokens, at
local state = redis.pcall('GET', KEYS[1])
if type(state) == 'string' then
  local sp = string.find(state, ' ', 1, true)
  tokens = tonumber(string.sub(state, 1, sp - 1))
  at = tonumber(string.sub(state, sp + 1))
elseif type(state) == 'table' and state.err then
  -- WRONGTYPE: the hash {t = tokens, at = ms} of the earlier layout
  local h = redis.call('HMGET', KEYS[1], 't', 'at')
  tokens = tonumber(h[1])
  at = tonumber(h[2])
end
if tokens == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
end
if tokens < cost then
  return string.format('0 %d %d %d', math.floor(tokens), math.ceil((burst - tokens) / perMs),
    math.max(1, math.ceil((cost - tokens) / perMs)))
end
tokens = tokens - cost
local fullInMs = math.ceil((burst - tokens) / perMs)
redis.call('SET', KEYS[1], string.format('%.17g %.17g', tokens, now), 'PX', math.max(1, fullInMs))
return string.format('1 %d %d 0', math.floor(tokens), fullInMs)`,
});

/**
 * GCRA (generic cell rate algorithm): the token bucket's decisions from one number, the theoretical arrival time
 * of the next call. One string key per limit and client, gone once the burst is available again.
 */
export const GCRA = defineScript({
  name: 'rate.gcra',
  keys: 1,
  lua: `-- KEYS[1]: the theoretical arrival time (TAT) in ms on the Redis clock (fractional)
-- ARGV[1]: rate in calls per second; ARGV[2]: burst (calls allowed at once); ARGV[3]: cost of this call
-- Returns: "<1 allowed / 0 refused> <calls left in the burst> <ms until the whole burst is available again> <ms
--   until a retry can be allowed, 0 when allowed>"
local intervalMs = 1000 / tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local toleranceMs = intervalMs * burst
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newTat = tat + cost * intervalMs
local allowAt = newTat - toleranceMs
if allowAt > now then
  return string.format('0 %d %d %d', math.max(0, math.floor((toleranceMs - (tat - now)) / intervalMs + 1e-9)),
    math.ceil(tat - now), math.max(1, math.ceil(allowAt - now)))
end
redis.call('SET', KEYS[1], newTat, 'PX', math.max(1, math.ceil(newTat - now)))
return string.format('1 %d %d 0', math.max(0, math.floor((toleranceMs - (newTat - now)) / intervalMs + 1e-9)),
  math.ceil(newTat - now))`,
});
