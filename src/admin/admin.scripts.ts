import { defineScript } from '../core/lua-script';

/**
 * Moves one dead letter back onto its stream: reads it from the DLQ, appends its message text to the stream (a new
 * id, so the consumer groups deliver it again) and deletes it from the DLQ, atomically. Idempotent: a dead letter
 * already redriven (or deleted) is no longer in the DLQ and the script does nothing. The two keys share the
 * stream's hash tag (`<prefix>msg:stream:{<name>}` and `...:dlq`), so it runs on a Cluster.
 */
export const REDRIVE_DEAD_LETTER = defineScript({
  name: 'admin.redrive',
  keys: 2,
  lua: `-- KEYS[1]: the stream, KEYS[2]: its dead-letter stream
-- ARGV[1]: id of the dead letter in KEYS[2]
-- Returns: the new id on the stream, or false when the dead letter is not there (already redriven or deleted)
local found = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #found == 0 then return false end
local fields = found[1][2]
local data = nil
for i = 1, #fields, 2 do
  if fields[i] == 'data' then data = fields[i + 1] end
end
redis.call('XDEL', KEYS[2], ARGV[1])
if data == nil then return false end
return redis.call('XADD', KEYS[1], '*', 'data', data)`,
});
