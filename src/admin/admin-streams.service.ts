import { Inject, Injectable } from '@nestjs/common';
import { sleep } from '../core/deadline';
import { deadLetterKey, delayedKeys, streamKey } from '../messaging/messaging.keys';
import { parseEntries, parseFlatObject } from '../messaging/stream-replies';
import type { RedisClient } from '../redis/redis.options';
import { RedisService } from '../redis/redis.service';
import { ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import { AdminBusyError, AdminNotFoundError } from './admin.errors';
import { prefixPattern, scanKeys } from './admin.keyspace';
import type { ResolvedAdminOptions } from './admin.options';
import { REDRIVE_DEAD_LETTER } from './admin.scripts';

/** One consumer of a group (XINFO CONSUMERS). */
export interface AdminConsumerView {
  /** Consumer name. */
  name: string;
  /** Messages delivered to it and not acked. */
  pending: number;
  /** Time since its last attempted interaction, in milliseconds. */
  idleMs: number;
}

/** One consumer group of a stream. */
export interface AdminGroupView {
  /** Group name. */
  name: string;
  /** Messages delivered and not acked. */
  pending: number;
  /** Messages not yet delivered to the group (null when Redis cannot tell). */
  lag: number | null;
  /** Id of the last message delivered. */
  lastDeliveredId: string;
  /** Age of the oldest pending message (since it was added to the stream), in milliseconds; null when none. */
  oldestPendingAgeMs: number | null;
  /** Its consumers. */
  consumers: AdminConsumerView[];
}

/** One stream as the operations page shows it. */
export interface AdminStreamView {
  /** App-facing stream name. */
  name: string;
  /** Entries in the stream (XLEN). */
  length: number;
  /** Entries in its DLQ. */
  deadLetters: number;
  /** Delayed messages waiting to be due (retries through the delay included). */
  delayed: number;
  /** When the next delayed message is due (epoch ms, Redis clock), or null when none waits. */
  nextDueAtMs: number | null;
  /** Its consumer groups. */
  groups: AdminGroupView[];
}

/** One dead letter with its failure reason. */
export interface AdminDeadLetterView {
  /** Id in the DLQ. */
  id: string;
  /** Id it had on the stream. */
  sourceId: string;
  /** Last error message. */
  error: string;
  /** Attempts made. */
  attempts: number;
  /** Group that gave up. */
  group: string;
  /** Consumer that gave up. */
  consumer: string;
  /** When it was dead-lettered, ISO 8601 (empty when unknown). */
  failedAt: string;
  /** The raw message text. */
  data: string;
  /** The message parsed as JSON, or null when it is not JSON. */
  message: unknown;
}

/** One page of a DLQ, oldest first. */
export interface AdminDeadLetterPage {
  /** The dead letters of this page. */
  items: AdminDeadLetterView[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
  /** Entries in the DLQ. */
  total: number;
}

/** Which dead letters a bulk redrive or delete takes: every field given must match. */
export interface DeadLetterFilter {
  /** Substring of the error message. */
  error?: string;
  /** Group that gave up. */
  group?: string;
}

/** Outcome of a bulk redrive or delete. */
export interface AdminBulkResult {
  /** Dead letters redriven or deleted by this request. */
  done: number;
  /** True when matching dead letters remain beyond this request's `maxPerRequest` (call again). */
  more: boolean;
}

/** Whether a dead letter matches a filter. */
export function matchesFilter(letter: Pick<AdminDeadLetterView, 'error' | 'group'>, filter: DeadLetterFilter): boolean {
  if (filter.error !== undefined && !letter.error.includes(filter.error)) return false;
  if (filter.group !== undefined && letter.group !== filter.group) return false;
  return true;
}

/** The stream id's time part (epoch ms), or NaN. */
function idTimeMs(id: string): number {
  return Number(id.split('-')[0]);
}

/**
 * Streams and dead letters for the operations page: discovers the streams with SCAN (every master on a Cluster),
 * reads groups, consumers and pending messages, browses a DLQ in pages, redrives (idempotent, paced to
 * `redrivePerSecond`) and deletes dead letters.
 */
@Injectable()
export class AdminStreamsService {
  private readonly busy = new Set<string>();
  private nextRedriveAtMs = 0;

  constructor(
    private readonly redis: RedisService,
    @Inject(ADMIN_RESOLVED_OPTIONS) private readonly options: ResolvedAdminOptions,
  ) {}

  private get client(): RedisClient {
    return this.redis.getClient(this.options.clientName);
  }

  private get feature(): string {
    return this.redis.prefixFor('msg');
  }

  /** Every stream with its DLQ, groups, consumers and oldest pending message, sorted by name. */
  async streams(): Promise<{ streams: AdminStreamView[]; truncated: boolean }> {
    const base = streamKey(this.feature, '');
    const prefix = base.slice(0, base.indexOf('{'));
    const { keys, truncated } = await scanKeys(
      this.client,
      prefixPattern(prefix),
      this.options.scanCount,
      this.options.maxListed * 2,
    );
    const names = new Set<string>();
    const shape = /^\{([^{}]+)\}(:dlq|:delayed|:delayed:entries)?$/;
    for (const key of keys) {
      const m = shape.exec(key.slice(prefix.length));
      if (m) names.add(m[1]);
    }
    const streams = await Promise.all([...names].sort().map((name) => this.stream(name)));
    return { streams, truncated };
  }

  /** One stream's view. */
  async stream(name: string): Promise<AdminStreamView> {
    const client = this.client;
    const key = streamKey(this.feature, name);
    const schedule = delayedKeys(key).schedule;
    const [length, deadLetters, delayed, next] = await Promise.all([
      client.xlen(key),
      client.xlen(deadLetterKey(this.feature, name)),
      client.zcard(schedule),
      client.zrange(schedule, '0', '0', 'WITHSCORES'),
    ]);
    const groupsReply = await this.tolerateNoKey(client.call('XINFO', 'GROUPS', key));
    const groups = await Promise.all(
      (Array.isArray(groupsReply) ? groupsReply : []).map(async (g): Promise<AdminGroupView> => {
        const o = parseFlatObject(g);
        const group = String(o.name);
        const [consumersReply, oldest] = await Promise.all([
          client.call('XINFO', 'CONSUMERS', key, group),
          client.call('XPENDING', key, group, '-', '+', '1'),
        ]);
        const oldestId = Array.isArray(oldest) && Array.isArray(oldest[0]) ? String(oldest[0][0]) : undefined;
        return {
          name: group,
          pending: Number(o.pending ?? 0),
          lag: o.lag === null || o.lag === undefined ? null : Number(o.lag),
          lastDeliveredId: String(o['last-delivered-id'] ?? ''),
          oldestPendingAgeMs: oldestId ? Math.max(0, Date.now() - idTimeMs(oldestId)) : null,
          consumers: (Array.isArray(consumersReply) ? consumersReply : []).map((c) => {
            const co = parseFlatObject(c);
            return { name: String(co.name), pending: Number(co.pending ?? 0), idleMs: Number(co.idle ?? 0) };
          }),
        };
      }),
    );
    const nextDueAtMs = next.length === 2 ? Number(next[1]) : null;
    return { name, length, deadLetters, delayed, nextDueAtMs, groups };
  }

  /**
   * One page of the DLQ of `name`, oldest first.
   * @param after the `next` of the previous page (exclusive), or undefined for the first page
   * @param limit dead letters per page
   */
  async deadLetters(name: string, after: string | undefined, limit: number): Promise<AdminDeadLetterPage> {
    const dlq = deadLetterKey(this.feature, name);
    const [reply, total] = await Promise.all([
      this.client.call('XRANGE', dlq, after ? `(${after}` : '-', '+', 'COUNT', String(limit + 1)),
      this.client.xlen(dlq),
    ]);
    const items = parseEntries(reply).map(toView);
    const next = items.length > limit ? items[limit - 1].id : null;
    return { items: items.slice(0, limit), next, total };
  }

  /** One dead letter; {@link AdminNotFoundError} when it is not in the DLQ. */
  async deadLetter(name: string, id: string): Promise<AdminDeadLetterView> {
    const reply = await this.client.call('XRANGE', deadLetterKey(this.feature, name), id, id);
    const found = parseEntries(reply).map(toView)[0];
    if (!found) throw new AdminNotFoundError(`no dead letter ${id} in the DLQ of stream "${name}"`);
    return found;
  }

  /**
   * Redrives one dead letter: back on its stream, out of the DLQ, atomically. Idempotent: `{ streamId: null }` when
   * it was no longer in the DLQ (already redriven or deleted).
   */
  async redrive(name: string, id: string): Promise<{ streamId: string | null }> {
    await this.pace();
    const streamId = await REDRIVE_DEAD_LETTER.run<string | null>(
      this.client,
      [streamKey(this.feature, name), deadLetterKey(this.feature, name)],
      [id],
      this.options.commandTimeoutMs,
    );
    return { streamId: streamId ?? null };
  }

  /** Deletes one dead letter; false when it was not there. */
  async delete(name: string, id: string): Promise<boolean> {
    return (await this.client.xdel(deadLetterKey(this.feature, name), id)) > 0;
  }

  /**
   * Redrives (or deletes) the dead letters matching `filter`, oldest first, at most `maxPerRequest` of them; one bulk
   * action per stream at a time in this process ({@link AdminBusyError} otherwise).
   */
  async bulk(name: string, action: 'redrive' | 'delete', filter: DeadLetterFilter): Promise<AdminBulkResult> {
    if (this.busy.has(name)) throw new AdminBusyError(`a bulk action on the DLQ of stream "${name}" is running`);
    this.busy.add(name);
    try {
      let done = 0;
      let after: string | undefined;
      for (;;) {
        const page = await this.deadLetters(name, after, 100);
        for (const letter of page.items) {
          if (!matchesFilter(letter, filter)) continue;
          if (done >= this.options.maxPerRequest) return { done, more: true };
          const ok =
            action === 'redrive'
              ? (await this.redrive(name, letter.id)).streamId !== null
              : await this.delete(name, letter.id);
          if (ok) done++;
        }
        if (page.next === null) return { done, more: false };
        after = page.next;
      }
    } finally {
      this.busy.delete(name);
    }
  }

  /** Waits for this process's next redrive slot: at most `redrivePerSecond` redrives per second. */
  private async pace(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextRedriveAtMs);
    this.nextRedriveAtMs = at + 1_000 / this.options.redrivePerSecond;
    if (at > now) await sleep(at - now);
  }

  /** XINFO on a missing stream (only its DLQ exists) is an error: an empty answer instead. */
  private async tolerateNoKey(reply: Promise<unknown>): Promise<unknown> {
    try {
      return await reply;
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return [];
      throw err;
    }
  }
}

/** The view of one DLQ entry. */
function toView(e: { id: string; fields: Record<string, string> | null }): AdminDeadLetterView {
  const f = e.fields ?? {};
  const data = f.data ?? '';
  let message: unknown = null;
  try {
    message = JSON.parse(data);
  } catch {
    // not JSON: shown as text
  }
  return {
    id: e.id,
    sourceId: f.sourceId ?? '',
    error: f.error ?? '',
    attempts: Number(f.attempts ?? 0),
    group: f.group ?? '',
    consumer: f.consumer ?? '',
    failedAt: f.failedAt ?? '',
    data,
    message,
  };
}
