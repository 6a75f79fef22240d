import type { RedisClient } from '../redis/redis.options';
import { parseEntries, type RawStreamEntry } from './stream-replies';

/** A stream entry handed to this consumer, new or reclaimed. */
export interface Delivery extends RawStreamEntry {
  /** Attempts already made before this delivery (0 for a new message). */
  priorAttempts: number;
}

/** What the claimer works on. */
export interface ClaimTarget {
  /** The shared client (looked up per call), for XPENDING. */
  client: () => RedisClient;
  /** Redis key of the stream. */
  key: string;
  /** Consumer group. */
  group: string;
  /** This consumer's name: reclaimed messages become its own. */
  consumerName: string;
  /** A message idle longer than this on any consumer is reclaimed, ms. */
  claimIdleMs: number;
  /** Messages per XAUTOCLAIM page. */
  batchSize: number;
}

/** One page of reclaimed messages. */
export interface ClaimPage {
  /** Cursor of the next page; `0-0` when the scan is complete. */
  cursor: string;
  /** The messages now owned by this consumer, with their earlier attempts. */
  deliveries: Delivery[];
}

/** A new message read with XREADGROUP `>`: no earlier attempt. */
export function newDelivery(entry: RawStreamEntry): Delivery {
  return { id: entry.id, fields: entry.fields, priorAttempts: 0 };
}

/**
 * Reclaims the messages left pending too long by any consumer of the group (a crashed process, a stuck handler):
 * XAUTOCLAIM page by page, with each message's earlier attempts from its delivery count (XPENDING), so a message
 * that keeps crashing its consumers still reaches the dead-letter stream after `maxAttempts`. Also says when the
 * next scan is due: every half `claimIdleMs`, between 100 ms and 30 s.
 */
export class StreamClaimer {
  private readonly everyMs: number;
  private nextAt = 0;

  constructor(private readonly target: ClaimTarget) {
    this.everyMs = Math.min(Math.max(Math.floor(target.claimIdleMs / 2), 100), 30_000);
  }

  /** True when a scan is due (at once after start). */
  get due(): boolean {
    return Date.now() >= this.nextAt;
  }

  /** Milliseconds until the next scan is due (at least 1). */
  get msUntilDue(): number {
    return Math.max(this.nextAt - Date.now(), 1);
  }

  /** Records that a scan has completed: the next one is due in one interval. */
  scanned(): void {
    this.nextAt = Date.now() + this.everyMs;
  }

  /**
   * Claims one page of idle messages for this consumer, starting at `cursor` (`0-0` for a new scan).
   * @param reader the consumer's own connection (XAUTOCLAIM)
   */
  async page(reader: RedisClient, cursor: string): Promise<ClaimPage> {
    const t = this.target;
    const reply = (await reader.call(
      'XAUTOCLAIM',
      t.key,
      t.group,
      t.consumerName,
      String(t.claimIdleMs),
      cursor,
      'COUNT',
      String(t.batchSize),
    )) as unknown[];
    const entries = parseEntries(reply[1]);
    if (entries.length === 0) return { cursor: String(reply[0]), deliveries: [] };
    const counts = await this.deliveryCounts(entries.map((e) => e.id));
    return {
      cursor: String(reply[0]),
      deliveries: entries.map((e) => ({ ...e, priorAttempts: Math.max((counts.get(e.id) ?? 1) - 1, 0) })),
    };
  }

  /** Delivery counts (XPENDING extended form) of the given ids, in one pipeline. */
  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const t = this.target;
    const pipeline = t.client().pipeline();
    for (const id of ids) pipeline.call('XPENDING', t.key, t.group, id, id, '1');
    const results = (await pipeline.exec()) ?? [];
    const out = new Map<string, number>();
    for (const [err, reply] of results) {
      if (err || !Array.isArray(reply) || !Array.isArray(reply[0])) continue;
      const [id, , , count] = reply[0] as [string, string, number, number];
      out.set(id, Number(count));
    }
    return out;
  }
}
