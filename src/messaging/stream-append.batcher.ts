import { batchWritesThisTick } from '../core/tick-writes';
import type { RedisClient } from '../redis/redis.options';
import { APPEND_MANY } from './messaging.scripts';

/** Entries bound for one stream (one MAXLEN) in this tick. */
interface Batch {
  key: string;
  maxLen: number;
  /** Largest PEXPIRE asked for by an entry of the batch, ms; 0 = none. */
  ttlMs: number;
  /** The entries' values, entry after entry (as many per entry as the batcher has fields). */
  values: string[];
  waiters: Array<{ resolve: (id: string) => void; reject: (err: unknown) => void }>;
}

/** Most entries one Lua call appends (bounds how long one call holds Redis: well under a millisecond). */
export const MAX_APPEND_BATCH = 200;

/**
 * Appends the stream entries issued in one tick with one command per stream: a lone entry as a plain `XADD`, several
 * with one {@link APPEND_MANY} call (`XADD` each, then one `XTRIM MAXLEN ~` and the optional `PEXPIRE`). Next to a
 * pipeline of XADDs this saves the client a command, a promise and a reply per entry; Redis does the same XADDs. Every
 * entry has the same fields (`fields`), given at construction. The keys of one call are one stream's, so it runs on
 * the stream's node on a Cluster. A call that fails rejects every entry of its batch (they all target that stream).
 *
 * Packed (`packed: true`): the tick's records for one stream go into **one** entry, their field/value pairs one after
 * the other (field names repeat; a reader walks the pairs in order), with one plain `XADD` (and a `PEXPIRE` after it
 * when asked): no script, one entry instead of one per record. Every record of the batch resolves with that entry's
 * id. For streams whose reader takes every entry as it comes (a reply stream), not for consumer-group streams whose
 * entries are spread over consumers.
 */
export class StreamAppendBatcher {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;

  /**
   * @param client the shared client, looked up at flush time
   * @param fields the field names of every entry (of every record, when packed), e.g. `['data']`
   * @param packed one entry per stream and tick holding every record of the tick (see the class comment)
   */
  constructor(
    private readonly client: () => RedisClient,
    private readonly fields: readonly string[],
    private readonly packed = false,
  ) {}

  /**
   * Queues one entry for stream `key`, trimmed to about `maxLen` entries (records, when packed; 0 = no trimming), its
   * life extended to `ttlMs` when given; resolves with the entry's id, rejects with Redis's error.
   * @param values the values of the entry's fields, in the order of `fields`
   */
  append(key: string, values: readonly string[], maxLen: number, ttlMs = 0): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      // Batches are found by key; a second MAXLEN for the same key in one tick gets a batch of its own.
      let group = key;
      let batch = this.batches.get(key);
      if (batch && batch.maxLen !== maxLen) {
        group = `${key}\n${maxLen}`;
        batch = this.batches.get(group);
      }
      if (!batch || batch.waiters.length >= MAX_APPEND_BATCH) {
        if (batch) this.send(batch); // full: it goes now, a new one starts
        batch = { key, maxLen, ttlMs: 0, values: [], waiters: [] };
        this.batches.set(group, batch);
      }
      for (const v of values) batch.values.push(v);
      if (ttlMs > batch.ttlMs) batch.ttlMs = ttlMs;
      batch.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    // These calls and the other commands of this tick (other batchers', acks, reads) leave together, a few per socket write.
    batchWritesThisTick(this.client());
    for (const batch of this.batches.values()) this.send(batch);
    this.batches.clear();
  }

  private send(batch: Batch): void {
    const client = this.client();
    const { waiters } = batch;
    if (this.packed) {
      this.sendPacked(client, batch);
      return;
    }
    if (waiters.length === 1 && batch.ttlMs === 0) {
      const args: string[] = [batch.key];
      if (batch.maxLen > 0) args.push('MAXLEN', '~', String(batch.maxLen));
      args.push('*');
      this.fields.forEach((f, i) => args.push(f, batch.values[i]));
      client.call('XADD', ...args).then(
        (id) => waiters[0].resolve(id as string),
        (err: unknown) => waiters[0].reject(err),
      );
      return;
    }
    const head = [String(batch.maxLen), batch.ttlMs > 0 ? String(batch.ttlMs) : '', String(this.fields.length)];
    APPEND_MANY.run<string[]>(client, [batch.key], [...head, ...this.fields, ...batch.values]).then(
      (ids) => waiters.forEach((w, i) => w.resolve(ids[i])),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    );
  }

  /** One `XADD` of every record of the batch as one entry (then the `PEXPIRE`, on the same connection). */
  private sendPacked(client: RedisClient, batch: Batch): void {
    const { waiters, values } = batch;
    const k = this.fields.length;
    const args: string[] = [batch.key];
    // `maxLen` counts records: entries of this batch's size hold about that many.
    if (batch.maxLen > 0) args.push('MAXLEN', '~', String(Math.ceil(batch.maxLen / waiters.length)));
    args.push('*');
    for (let i = 0; i < values.length; i += k) {
      for (let j = 0; j < k; j++) args.push(this.fields[j], values[i + j]);
    }
    let added = client.call('XADD', ...args) as Promise<string>;
    if (batch.ttlMs > 0) {
      // Right after the XADD on the same connection (on a Cluster, the stream's node): it finds the stream. As in the
      // script, the records fail when it fails, so the caller asks for it again.
      const expired = client.pexpire(batch.key, batch.ttlMs);
      added = Promise.all([added, expired]).then(([id]) => id);
    }
    added.then(
      (id) => waiters.forEach((w) => w.resolve(id)),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    );
  }
}
