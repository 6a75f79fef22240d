import { defineScript } from '../core/lua-script';

/**
 * The Lua scripts of messaging: publishing a tick's pub/sub messages, appending a tick's entries to a stream, delayed
 * stream messages. The keys of one call are one stream's (its delayed sorted
 * set, the delayed entries' hash, the stream itself: `delayedKeys()` in `messaging.keys.ts`) and share its hash tag,
 * so every call runs on the stream's node, Cluster included. Every script reads the clock with Redis TIME: due times
 * are the Redis server's, whatever the clocks of the instances say.
 */

/** Redis TIME in ms (Lua). */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Schedules one entry: its fields wait in the hash, its id in the sorted set with the due time as score; when
 * `ackId` is given, acks that entry of the stream for `group` in the same call (a retry: rescheduled and acked,
 * both or neither).
 */
export const SCHEDULE_DELAYED = defineScript({
  name: 'messaging.scheduleDelayed',
  keys: 3,
  lua: `-- KEYS[1]: delayed sorted set, KEYS[2]: delayed entries hash, KEYS[3]: stream
-- ARGV[1]: delayed id, ARGV[2]: the entry's fields (JSON array name, value, ...), ARGV[3]: delay ms from now (Redis
-- TIME) or '' , ARGV[4]: due time, epoch ms, when ARGV[3] is '', ARGV[5]: group to ack for or '', ARGV[6]: stream
-- entry id to ack or ''
-- Returns: { due time (epoch ms), Redis time now (epoch ms) }
${NOW_MS}
local due = ARGV[3] ~= '' and now + tonumber(ARGV[3]) or tonumber(ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], due, ARGV[1])
if ARGV[6] ~= '' then redis.call('XACK', KEYS[3], ARGV[5], ARGV[6]) end
return { due, now }`,
});

/** Moves the due entries (due time ≤ Redis TIME) into the stream, oldest due first; each one exactly once. */
export const MOVE_DUE = defineScript({
  name: 'messaging.moveDue',
  keys: 3,
  lua: `-- KEYS[1]: delayed sorted set, KEYS[2]: delayed entries hash, KEYS[3]: stream
-- ARGV[1]: most entries to move in this call, ARGV[2]: approximate MAXLEN of the stream (0 = no trimming)
-- Returns: { entries moved, Redis time now (epoch ms), next due time (epoch ms, -1 when none waits), sum of the
-- moved entries' lateness (ms), largest lateness (ms) }
${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local moved, sum, max = 0, 0, 0
local trim = tonumber(ARGV[2])
for i = 1, #due, 2 do
  local id, at = due[i], tonumber(due[i + 1])
  local fields = redis.call('HGET', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  if fields then
    redis.call('HDEL', KEYS[2], id)
    local f = cjson.decode(fields)
    f[#f + 1] = 'dueAt'
    f[#f + 1] = string.format('%d', at)
    if trim > 0 then
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', trim, '*', unpack(f))
    else
      redis.call('XADD', KEYS[3], '*', unpack(f))
    end
    moved = moved + 1
    local late = now - at
    sum = sum + late
    if late > max then max = late end
  end
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { moved, now, nxt[2] and tonumber(nxt[2]) or -1, sum, max }`,
});

/** Cancels a delayed entry that is not due yet (not moved). */
export const CANCEL_DELAYED = defineScript({
  name: 'messaging.cancelDelayed',
  keys: 2,
  lua: `-- KEYS[1]: delayed sorted set, KEYS[2]: delayed entries hash
-- ARGV[1]: delayed id
-- Returns: 1 when cancelled, 0 when unknown (moved already, cancelled already, or never scheduled)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0`,
});

/**
 * Appends several entries to one stream in one call (what one tick added to it), then trims it once and extends its
 * life: one command instead of one XADD each, which is most of a producer's client CPU per message.
 */
export const APPEND_MANY = defineScript({
  name: 'messaging.appendMany',
  keys: 1,
  lua: `-- KEYS[1]: the stream
-- ARGV[1]: approximate MAXLEN after the appends (0 = no trimming), ARGV[2]: PEXPIRE of the stream in ms ('' = none),
-- ARGV[3]: fields per entry (k), ARGV[4 .. 3 + k]: their names, then k values per entry, entry after entry
-- Returns: the ids of the added entries, in order
local k = tonumber(ARGV[3])
local ids = {}
if k == 1 then
  local f = ARGV[4]
  for i = 5, #ARGV do ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', f, ARGV[i]) end
elseif k == 2 then
  local f1, f2 = ARGV[4], ARGV[5]
  for i = 6, #ARGV, 2 do ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', f1, ARGV[i], f2, ARGV[i + 1]) end
else
  local entry = {}
  for i = 4 + k, #ARGV, k do
    for j = 1, k do
      entry[2 * j - 1] = ARGV[3 + j]
      entry[2 * j] = ARGV[i + j - 1]
    end
    ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(entry))
  end
end
local maxLen = tonumber(ARGV[1])
if maxLen > 0 then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', maxLen) end
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return ids`,
});

/**
 * Publishes the pub/sub messages of one tick in the order they were published: runs of messages for one channel, each
 * run as its channel, its length and its messages. The channels are not keys (a PUBLISH on a single node or
 * Sentinel; never sent to a Cluster).
 */
export const PUBLISH_MANY = defineScript({
  name: 'messaging.publishMany',
  keys: 0,
  lua: `-- KEYS: none
-- ARGV: runs of messages, each as: the Redis channel, the number of messages n, then the n messages in order
-- Returns: the number of messages published
local i, published = 1, 0
while i <= #ARGV do
  local channel, n = ARGV[i], tonumber(ARGV[i + 1])
  for j = i + 2, i + 1 + n do redis.call('PUBLISH', channel, ARGV[j]) end
  published = published + n
  i = i + 2 + n
end
return published`,
});
