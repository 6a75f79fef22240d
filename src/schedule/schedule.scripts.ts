import { defineScript } from '../core';

/**
 * The Lua scripts of the schedule. Keys come from `schedule.keys.ts`; the keys of one call are one job's and share
 * its hash tag.
 */

/** What {@link CLAIM_TICK} answers. */
export type ClaimVerdict = 'run' | 'wait' | 'overlap' | 'taken';

/**
 * Claims one tick of a job, atomically: refused when this tick or a later one was claimed already (ticks go forward
 * only, whatever the clocks of the instances say); otherwise recorded as the last tick, and then run at once (the
 * run lease taken), queued behind the run in progress (`wait`, one queued tick at most) or skipped (`overlap`).
 */
export const CLAIM_TICK = defineScript({
  name: 'schedule.claimTick',
  keys: 4,
  lua: `-- KEYS[1]: last claimed tick, KEYS[2]: this tick's claim, KEYS[3]: run lease, KEYS[4]: queued tick
-- ARGV[1]: tick (epoch ms), ARGV[2]: owner token, ARGV[3]: claim TTL ms, ARGV[4]: run lease ms, ARGV[5]: skip|wait
-- Returns: 'run' (lease taken), 'wait' (queued behind the run in progress), 'overlap' (skipped: a run is in
-- progress), 'taken' (this tick or a later one was claimed already)
local last = tonumber(redis.call('get', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last or redis.call('exists', KEYS[2]) == 1 then return 'taken' end
redis.call('set', KEYS[1], ARGV[1])
if redis.call('exists', KEYS[3]) == 1 then
  if ARGV[5] == 'wait' and redis.call('set', KEYS[4], ARGV[2], 'NX', 'PX', ARGV[4]) then
    redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
    return 'wait'
  end
  redis.call('set', KEYS[2], 'skipped:' .. ARGV[2], 'PX', ARGV[3])
  return 'overlap'
end
redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('set', KEYS[3], ARGV[2], 'PX', ARGV[4])
return 'run'`,
});

/**
 * A queued tick's turn. A run that ends hands its lease straight to the queued tick ({@link RELEASE_RUN}), so a
 * queued tick that finds no lease at all knows the holder's lease lapsed (its process or Redis stalled longer than
 * the lease, or it died): it marks the lease `lapsed:<Redis ms>` (a run in progress for every claim) and takes it only
 * once the mark is `grace` old and the holder did not take it back ({@link RENEW_RUN}) meanwhile.
 */
export const TAKE_TURN = defineScript({
  name: 'schedule.takeTurn',
  keys: 2,
  lua: `-- KEYS[1]: run lease, KEYS[2]: queued tick
-- ARGV[1]: owner token, ARGV[2]: run lease ms, ARGV[3]: grace ms left to the holder of a lapsed lease
-- Returns: 1 when this tick holds the run lease (handed over, or lapsed and not taken back within the grace),
-- 0 while another run holds it or may still take it back
local holder = redis.call('get', KEYS[1])
if holder ~= ARGV[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local since = nil
  if not holder then
    redis.call('set', KEYS[1], 'lapsed:' .. now, 'PX', ARGV[2])
    since = now
  else
    since = tonumber(string.match(holder, '^lapsed:(%d+)$'))
  end
  if since == nil or now - since < tonumber(ARGV[3]) then
    if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('pexpire', KEYS[2], ARGV[2]) end
    return 0
  end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('del', KEYS[2]) end
return 1`,
});

/**
 * Renews the run lease while the run goes on. A lease that lapsed (a stall longer than the lease) and that no other
 * run took meanwhile is taken back, so the rest of the run is covered again.
 */
export const RENEW_RUN = defineScript({
  name: 'schedule.renewRun',
  keys: 1,
  lua: `-- KEYS[1]: run lease
-- ARGV[1]: owner token, ARGV[2]: run lease ms
-- Returns: 1 when renewed, 2 when it had lapsed and was taken back, 0 when another run holds it now
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder or string.sub(holder, 1, 7) == 'lapsed:' then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0`,
});

/**
 * Gives back what a tick holds: the run lease when its run ends (handed straight to the queued tick, if one waits:
 * nothing can start in between, and a queued tick that finds no lease knows it lapsed); the lease or the queued place
 * of a claim whose answer never came (a timed-out claim that Redis may still carry out once it answers again: sent on
 * the same connection right after it, this runs after it).
 */
export const RELEASE_RUN = defineScript({
  name: 'schedule.releaseRun',
  keys: 2,
  lua: `-- KEYS[1]: run lease, KEYS[2]: queued tick
-- ARGV[1]: owner token, ARGV[2]: run lease ms (of the queued tick the lease is handed to)
-- Returns: the number of keys released (0 when neither was ours)
local released = 0
if redis.call('get', KEYS[1]) == ARGV[1] then
  released = 1
  local queued = redis.call('get', KEYS[2])
  if queued and queued ~= ARGV[1] then
    redis.call('set', KEYS[1], queued, 'PX', ARGV[2])
  else
    redis.call('del', KEYS[1])
  end
end
if redis.call('get', KEYS[2]) == ARGV[1] then released = released + redis.call('del', KEYS[2]) end
return released`,
});
