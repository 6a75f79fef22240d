/**
 * Every Redis key and channel the messaging feature writes, under `RedisService.prefixFor('msg')`
 * (e.g. `nrk:msg:`): pub/sub channels, streams with their dead-letter streams, idempotency marks.
 */

/**
 * Redis channel of an app-facing pub/sub channel (or pattern): `<prefix>msg:<channel>`.
 * @param featurePrefix `RedisService.prefixFor('msg')`, e.g. `nrk:msg:`
 */
export function channelKey(featurePrefix: string, channel: string): string {
  return `${featurePrefix}${channel}`;
}

/**
 * Redis key of a stream: `<prefix>msg:stream:{<name>}`. The hash tag puts the stream and its DLQ in
 * one Cluster slot, so moving a message to the DLQ and acking it is one MULTI.
 * @param featurePrefix `RedisService.prefixFor('msg')`, e.g. `nrk:msg:`
 */
export function streamKey(featurePrefix: string, name: string): string {
  return `${featurePrefix}stream:{${name}}`;
}

/** Redis key of the dead-letter stream of `name`: `<stream key>:dlq`. */
export function deadLetterKey(featurePrefix: string, name: string): string {
  return `${streamKey(featurePrefix, name)}:dlq`;
}

/** Redis key recording that message `id` is being or was processed: `<prefix>msg:done:<id>`. */
export function idempotencyKey(featurePrefix: string, id: string): string {
  return `${featurePrefix}done:${id}`;
}

/** The Redis keys of a stream's delayed entries (see {@link delayedKeys}). */
export interface DelayedKeys {
  /** Sorted set of the delayed ids, scored by due time (epoch ms): `<stream key>:delayed`. */
  schedule: string;
  /** Hash of the delayed entries' fields by id: `<stream key>:delayed:entries`. */
  entries: string;
  /** The stream they are moved into. */
  stream: string;
}

/**
 * Redis keys of the delayed entries of the stream whose key is `key` (from {@link streamKey}): they share its hash
 * tag, so one Lua call moves due entries into the stream, on Cluster too.
 */
export function delayedKeys(key: string): DelayedKeys {
  return { schedule: `${key}:delayed`, entries: `${key}:delayed:entries`, stream: key };
}
