import { CacheSerializationError } from './cache.errors';

/**
 * The text the cache stores under a key, told apart by its first character (JSON text never starts with these):
 * - plain JSON of the value (`redis-cli GET` shows the value itself): what the cache writes for any value without
 *   a Buffer;
 * - `B` + JSON where each Buffer is `{"$buffer":"<base64>"}`: a value holding Buffers, which come back as Buffers;
 * - `~` + a string stored as given: what a Keyv serializer produced (see `RedisKeyvStore`).
 */
export const BUFFERS_MARK = 'B';
/** See {@link BUFFERS_MARK}. */
export const VERBATIM_MARK = '~';

const BUFFERS_CODE = BUFFERS_MARK.charCodeAt(0);
/** What JSON.stringify makes of a Buffer (its toJSON): found in the text, the value may hold one. */
const BUFFER_JSON = '{"type":"Buffer","data":[';
/** The property that stands for a Buffer in {@link BUFFERS_MARK} text. */
const BUFFER_PROPERTY = '$buffer';

/** A Buffer as written in {@link BUFFERS_MARK} text. */
class EncodedBuffer {
  constructor(readonly $buffer: string) {}
}

/**
 * The text stored for a value: plain JSON, or {@link BUFFERS_MARK} text when it holds Buffers (so that they come
 * back as Buffers, not as `{type:'Buffer',data:[…]}`). JSON's own rules apply to everything else: a Date comes back
 * as its ISO string, `undefined` properties are dropped (give Keyv a serializer for richer types).
 * @param key the cache key the value is meant for (named in the error)
 * @throws CacheSerializationError for a value without a JSON form (BigInt, circular, undefined, a function...), or a
 *         value holding Buffers that also has a `$buffer` property of its own
 */
export function encodeCacheValue(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new CacheSerializationError(key, err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (text === undefined) throw new CacheSerializationError(key, `a value of type ${typeof value} has no JSON form`);
  return text.includes(BUFFER_JSON) ? encodeWithBuffers(key, value, text) : text;
}

/** {@link BUFFERS_MARK} text of a value holding real Buffers; `plain` when none of them is a real Buffer. */
function encodeWithBuffers(key: string, value: unknown, plain: string): string {
  let found = false;
  const text = JSON.stringify(value, function (this: Record<string, unknown>, name: string, v: unknown) {
    const original = this[name];
    if (Buffer.isBuffer(original)) {
      found = true;
      return new EncodedBuffer(original.toString('base64'));
    }
    if (name === BUFFER_PROPERTY && !(this instanceof EncodedBuffer)) {
      throw new CacheSerializationError(key, `a value holding Buffers cannot have a "${BUFFER_PROPERTY}" property`);
    }
    return v;
  });
  return found ? BUFFERS_MARK + text : plain;
}

function reviveBuffer(_name: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const encoded = (v as Record<string, unknown>)[BUFFER_PROPERTY];
    if (typeof encoded === 'string' && Object.keys(v).length === 1) return Buffer.from(encoded, 'base64');
  }
  return v;
}

/** Marks text that is not one of ours (written under our prefix by something else). */
export const NOT_JSON: unique symbol = Symbol('nest-redis-kit:cache:not-json');

/** The value of text written by {@link encodeCacheValue}, or {@link NOT_JSON}. */
export function decodeCacheValue(text: string): unknown {
  try {
    return text.charCodeAt(0) === BUFFERS_CODE
      ? (JSON.parse(text.slice(1), reviveBuffer) as unknown)
      : (JSON.parse(text) as unknown);
  } catch {
    return NOT_JSON;
  }
}
