import type { LuaArg } from '../core/lua-script';
import { batchWritesThisTick } from '../core/tick-writes';
import type { RedisClient } from '../redis/redis.options';
import { PUBLISH_MANY } from './messaging.scripts';

/** The messages of one call, in publishing order, and who waits for each. */
interface Batch {
  /** {@link PUBLISH_MANY}'s arguments: runs of (channel, count, messages). */
  args: LuaArg[];
  /** Index in `args` of the current run's count. */
  runAt: number;
  /** Messages in the current run. */
  runLength: number;
  /** The current run's channel. */
  runChannel: string;
  /** Messages in the call. */
  size: number;
  /** Their length in all, characters. */
  length: number;
  resolves: Array<(value: undefined) => void>;
  rejects: Array<(err: unknown) => void>;
}

/** Most messages one Lua call publishes (bounds how long one call holds Redis: well under a millisecond). */
export const MAX_PUBLISH_BATCH = 200;

/**
 * Most characters of messages one Lua call carries (about as many bytes for ASCII text), so that large messages do
 * not hold Redis for long either; a message longer than this goes alone, as a plain `PUBLISH`.
 */
export const MAX_PUBLISH_BATCH_LENGTH = 1_000_000;

/**
 * Publishes the pub/sub messages issued in one tick with one command: a lone message as a plain `PUBLISH`, several
 * with one {@link PUBLISH_MANY} call (a `PUBLISH` each, in the order they were issued, whatever their channels; at
 * most {@link MAX_PUBLISH_BATCH} messages and {@link MAX_PUBLISH_BATCH_LENGTH} characters per call, the rest in the
 * next calls).
 * Next to a pipeline of PUBLISHes this saves the client a command, a promise and a reply per message; Redis runs the
 * same PUBLISHes. Each message still resolves on its own; a call Redis refuses, or that times out, rejects every
 * message in it. For one Redis server (single node, Sentinel): the channels of a call may live on different
 * Cluster nodes.
 */
export class PublishBatcher {
  private batch: Batch | undefined;
  private scheduled = false;

  /** @param client the shared client, looked up at send time */
  constructor(private readonly client: () => RedisClient) {}

  /**
   * Queues `text` for the Redis channel `key`; resolves once Redis has published it, rejects with the call's error.
   */
  publish(key: string, text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let batch = this.batch;
      if (!batch || batch.size >= MAX_PUBLISH_BATCH || batch.length + text.length > MAX_PUBLISH_BATCH_LENGTH) {
        if (batch) this.send(batch); // full: it goes now (before this message), a new one starts
        batch = {
          args: [key, 1, text],
          runAt: 1,
          runLength: 1,
          runChannel: key,
          size: 1,
          length: text.length,
          resolves: [],
          rejects: [],
        };
        this.batch = batch;
      } else {
        if (batch.runChannel === key) {
          batch.args.push(text);
          batch.args[batch.runAt] = ++batch.runLength;
        } else {
          batch.runAt = batch.args.length + 1;
          batch.runLength = 1;
          batch.runChannel = key;
          batch.args.push(key, 1, text);
        }
        batch.size++;
        batch.length += text.length;
      }
      batch.resolves.push(resolve);
      batch.rejects.push(reject);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = undefined;
    if (batch) this.send(batch);
  }

  private send(batch: Batch): void {
    const client = this.client();
    // Written with the other commands of this tick (other features', the subscriber's are on their own connection).
    batchWritesThisTick(client);
    const { resolves, rejects } = batch;
    const sent =
      batch.size === 1
        ? client.publish(batch.runChannel, batch.args[2] as string)
        : PUBLISH_MANY.run<number>(client, [], batch.args);
    sent.then(
      () => {
        for (let i = 0; i < resolves.length; i++) resolves[i](undefined);
      },
      (err: unknown) => {
        for (let i = 0; i < rejects.length; i++) rejects[i](err);
      },
    );
  }
}
