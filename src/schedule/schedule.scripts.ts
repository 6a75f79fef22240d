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

/** A queued tick takes the run lease once the run in progress has ended (and keeps its place meanwhile). */
export const TAKE_TURN = defineScript({
  name: 'schedule.takeTurn',
  keys: 2,
  lua: `-- KEYS[1]: run lease, KEYS[2]: queued tick
-- ARGV[1]: owner token, ARGV[2]: run lease ms
-- Returns: 1 when the lease was taken, 0 while another run holds it
if redis.call('exists', KEYS[1]) == 1 then
  if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('pexpire', KEYS[2], ARGV[2]) end
  return 0
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('del', KEYS[2]) end
return 1`,
});

/** Renews the run lease while the run goes on. */
export const RENEW_RUN = defineScript({
  name: 'schedule.renewRun',
  keys: 1,
  lua: `-- KEYS[1]: run lease
-- ARGV[1]: owner token, ARGV[2]: run lease ms
-- Returns: 1 when renewed, 0 when the lease is no longer ours (expired, or Redis lost it)
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`,
});

/**
 * Gives back what a tick holds: the run lease when its run ends; the lease or the queued place of a claim whose answer
 * never came (a timed-out claim that Redis may still carry out once it answers again: sent on the same connection
 * right after it, this runs after it).
 */
export const RELEASE_RUN = defineScript({
  name: 'schedule.releaseRun',
  keys: 2,
  lua: `-- KEYS[1]: run lease, KEYS[2]: queued tick
-- ARGV[1]: owner token
-- Returns: the number of keys released (0 when neither was ours)
local released = 0
for i = 1, 2 do
  if redis.call('get', KEYS[i]) == ARGV[1] then released = released + redis.call('del', KEYS[i]) end
end
return released`,
});
