import { defineScript } from '../core';

/**
 * The Lua scripts of locks and semaphores. Keys are built in `lock.keys.ts`; the keys of one call share a hash tag
 * (a lock's resources must share one on a Cluster, and a resource's fence key carries the resource's tag).
 */

/**
 * Lua of the scripts that draw fencing tokens, inlined (no function made per call): keeps the fence counter `key`
 * (a Lua expression) alive for at least `idleMs` (a Lua variable, 0: forever) after this acquisition. Its TTL is set
 * to `renewMs` (the argument {@link fenceRenewMs} computed, a Lua expression) and renewed only once less than
 * `idleMs` is left: on most acquisitions a PTTL read instead of a PEXPIRE write (the write costs Redis about as much
 * as the rest of the acquisition). A counter thus expires between `idleMs` and `renewMs` after its last
 * acquisition. INCR keeps a key's TTL; a new counter (PTTL -1) gets one at once.
 */
function renewFence(key: string, renewMs: string): string {
  return `if idleMs > 0 and redis.call('pttl', ${key}) < idleMs then redis.call('pexpire', ${key}, ${renewMs}) end`;
}

/**
 * The TTL a fence counter is given when its TTL is renewed: 9/8 of its idle lifetime `fenceTtlMs`, so that it is
 * renewed about once per eighth of that lifetime, not at every acquisition. Passed to the scripts as an argument
 * (an integer string), not computed in Lua (whose number formatting would turn a large value into `1e+14`).
 */
export function fenceRenewMs(fenceTtlMs: number): number {
  return fenceTtlMs + Math.floor(fenceTtlMs / 8);
}

/**
 * Acquisition on one client, atomic: Redlock's acquisition (refuse if any lock key exists, else SET each to our
 * value with a lease) plus, with fencing on, the INCR of each resource's fence counter, in one round trip.
 */
export const ACQUIRE_FENCED = defineScript({
  name: 'lock.acquireFenced',
  keys: 'variadic',
  lua: `-- KEYS: n lock keys, then (fencing on) the n fence keys of the same resources
-- ARGV[1]: lock value, ARGV[2]: lease in ms, ARGV[3]: fencing 1/0, ARGV[4]: fence key idle TTL in ms (0: none),
-- ARGV[5]: the TTL a fence key is renewed to, in ms
-- Returns: nil when a lock key exists (busy), else the fencing tokens in resource order (empty: fencing off)
local fencing = ARGV[3] == '1'
local n = fencing and (#KEYS / 2) or #KEYS
if n == 1 then
  if not redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return false end
else
  for i = 1, n do
    if redis.call('exists', KEYS[i]) == 1 then return false end
  end
  for i = 1, n do redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
end
local out = {}
if fencing then
  local idleMs = tonumber(ARGV[4])
  for i = 1, n do
    out[i] = redis.call('incr', KEYS[n + i])
    ${renewFence('KEYS[n + i]', 'ARGV[5]')}
  end
end
return out`,
});

/**
 * {@link ACQUIRE_FENCED} for the common case, one resource with fencing on: no loop, no table, and the token as an
 * integer reply (a Lua table as the reply costs Redis more to build and answer).
 */
export const ACQUIRE_ONE_FENCED = defineScript({
  name: 'lock.acquireOneFenced',
  keys: 2,
  lua: `-- KEYS[1]: the lock key, KEYS[2]: the resource's fence key
-- ARGV[1]: lock value, ARGV[2]: lease in ms, ARGV[3]: fence key idle TTL in ms (0: none), ARGV[4]: the TTL a fence
-- key is renewed to, in ms
-- Returns: nil when the lock key exists (busy), else the fencing token
if not redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return false end
local token = redis.call('incr', KEYS[2])
local idleMs = tonumber(ARGV[3])
${renewFence('KEYS[2]', 'ARGV[4]')}
return token`,
});

/**
 * Release on one client: deletes each lock key that still holds our value (a key taken by another holder after our
 * lease ended is left alone).
 */
export const RELEASE = defineScript({
  name: 'lock.release',
  keys: 'variadic',
  lua: `-- KEYS: the lock keys
-- ARGV[1]: our lock value
-- Returns: the number of keys deleted (all of them: the lock was still ours)
local n = 0
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) == ARGV[1] then n = n + redis.call('del', KEYS[i]) end
end
return n`,
});

/** Extension on one client: sets a new lease on every lock key, only if every one still holds our value. */
export const EXTEND = defineScript({
  name: 'lock.extend',
  keys: 'variadic',
  lua: `-- KEYS: the lock keys
-- ARGV[1]: our lock value, ARGV[2]: new lease in ms from now
-- Returns: the number of keys extended (0 when any of them is gone or taken)
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) ~= ARGV[1] then return 0 end
end
for i = 1, #KEYS do redis.call('pexpire', KEYS[i], ARGV[2]) end
return #KEYS`,
});

/** Raises a fence counter to at least a value (never lowers it): after a store saw a higher token. */
export const FENCE_ADVANCE = defineScript({
  name: 'lock.fenceAdvance',
  keys: 1,
  lua: `-- KEYS[1]: the fence key
-- ARGV[1]: the lowest value the counter may have
-- Returns: the counter afterwards
local current = tonumber(redis.call('get', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if current < wanted then redis.call('set', KEYS[1], ARGV[1]) return wanted end
return current`,
});

/** Fencing tokens for a lock held on independent nodes: INCR of every fence key, on the shared client. */
export const FENCE_INCR = defineScript({
  name: 'lock.fenceIncr',
  keys: 'variadic',
  lua: `-- KEYS: the fence keys of the locked resources
-- ARGV[1]: fence key idle TTL in ms (0: none), ARGV[2]: the TTL a fence key is renewed to, in ms
-- Returns: the new tokens, in key order
local idleMs = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('incr', KEYS[i])
  ${renewFence('KEYS[i]', 'ARGV[2]')}
end
return out`,
});

/**
 * Included at the top of the semaphore scripts (after their header): `now`, in milliseconds by Redis' own clock, so
 * that leases do not depend on the clocks of the clients.
 */
const REDIS_NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Takes a semaphore permit when fewer than `limit` unexpired ones are held. A semaphore is one sorted set (member:
 * permit id, score: lease end by Redis' clock); expired permits (crashed holders) are dropped first. The key lives
 * as long as its longest permit. A set that does not exist (no permit held: the common case of a semaphore that is
 * not full) costs a ZCARD instead of ZREMRANGEBYSCORE + ZCARD, and gets its TTL without a PTTL read first.
 */
export const SEMAPHORE_ACQUIRE = defineScript({
  name: 'lock.semaphoreAcquire',
  keys: 1,
  lua: `-- KEYS[1]: the semaphore's sorted set
-- ARGV[1]: limit, ARGV[2]: lease in ms, ARGV[3]: permit id
-- Returns: the lease end in ms (> 0) when taken, else minus the ms until the next lease ends (<= -1)
${REDIS_NOW_MS}
local ttl = tonumber(ARGV[2])
local held = redis.call('ZCARD', KEYS[1])
if held > 0 then held = held - redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
if held < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  -- held == 0: the set did not exist (or lost its last permit just now), so it has no TTL yet
  if held == 0 or redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  return now + ttl
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return -math.max(1, tonumber(first[2]) - now)`,
});

/** Extends a semaphore permit that is still held (unexpired). */
export const SEMAPHORE_EXTEND = defineScript({
  name: 'lock.semaphoreExtend',
  keys: 1,
  lua: `-- KEYS[1]: the semaphore's sorted set
-- ARGV[1]: lease in ms from now, ARGV[2]: permit id
-- Returns: the new lease end in ms (Redis' clock), or 0 when the permit is gone or expired
${REDIS_NOW_MS}
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then return 0 end
local ttl = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return now + ttl`,
});

/** Counts the holders of a semaphore now. */
export const SEMAPHORE_COUNT = defineScript({
  name: 'lock.semaphoreCount',
  keys: 1,
  lua: `-- KEYS[1]: the semaphore's sorted set
-- ARGV: none
-- Returns: the number of unexpired permits
${REDIS_NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`,
});
