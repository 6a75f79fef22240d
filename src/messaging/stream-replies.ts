/** Parsers of the RESP2 stream replies the feature reads (XREADGROUP, XAUTOCLAIM, XRANGE, XINFO). */

/** One entry as read from a stream: id and field/value pairs (null when the entry was trimmed away). */
export interface RawStreamEntry {
  /** Stream id, e.g. `1700000000000-0`. */
  id: string;
  /** Field → value, or null when the entry no longer exists. */
  fields: Record<string, string> | null;
}

/** Parses `[[id, [f, v, ...]], ...]` (RESP2) into entries. */
export function parseEntries(reply: unknown): RawStreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: RawStreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    const raw = item[1] as unknown;
    let fields: Record<string, string> | null = null;
    if (Array.isArray(raw)) {
      fields = {};
      for (let i = 0; i + 1 < raw.length; i += 2) fields[String(raw[i])] = String(raw[i + 1]);
    }
    out.push({ id: item[0], fields });
  }
  return out;
}

/** Parses an XREADGROUP reply (`null` on timeout, or `[[key, entries]]`) into the entries of the first stream. */
export function parseReadGroupReply(reply: unknown): RawStreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0] as unknown;
  return Array.isArray(first) ? parseEntries(first[1]) : [];
}

/**
 * Walks the entries of the first stream of an XREAD / XREADGROUP reply without building objects: `onPair` gets each
 * field/value pair in stream order, field names that repeat within an entry included. Returns the id of the last
 * entry, or undefined when there is none (`null` on timeout).
 */
export function forEachReadPair(reply: unknown, onPair: (field: string, value: string) => void): string | undefined {
  if (!Array.isArray(reply) || reply.length === 0 || !Array.isArray(reply[0])) return undefined;
  const entries = (reply[0] as unknown[])[1];
  if (!Array.isArray(entries)) return undefined;
  let lastId: string | undefined;
  for (const item of entries) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    lastId = item[0];
    const raw = item[1] as unknown;
    if (!Array.isArray(raw)) continue;
    for (let i = 0; i + 1 < raw.length; i += 2) onPair(String(raw[i]), String(raw[i + 1]));
  }
  return lastId;
}

/** Parses a flat RESP2 `[k1, v1, k2, v2...]` into an object. */
export function parseFlatObject(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}
