import type { RedisClient } from '../redis/redis.options';

interface Pending {
  args: string[];
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends the commands issued in one tick as one pipeline (one socket write) per group, like ioredis'
 * `enableAutoPipelining` but limited to our own commands. A group must stay in one Cluster slot
 * (a stream name: its keys share a hash tag). A lone command is sent as is.
 */
export class CommandBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private scheduled = false;

  /** @param client the shared client, looked up at flush time */
  constructor(private readonly client: () => RedisClient) {}

  /** Queues `args` (command name first) in `group`; resolves with its reply, rejects with its error. */
  send(group: string, args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(group);
      if (!queue) {
        queue = [];
        this.queues.set(group, queue);
      }
      queue.push({ args, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const client = this.client();
    for (const queue of this.queues.values()) {
      if (queue.length === 1) {
        const [{ args, resolve, reject }] = queue;
        client.call(args[0], ...args.slice(1)).then(resolve, reject);
        continue;
      }
      const pipeline = client.pipeline();
      for (const p of queue) pipeline.call(p.args[0], ...p.args.slice(1));
      pipeline.exec().then(
        (results) => {
          queue.forEach((p, i) => {
            const [err, reply] = results?.[i] ?? [new Error('no reply in pipeline'), undefined];
            if (err) p.reject(err);
            else p.resolve(reply);
          });
        },
        (err: unknown) => queue.forEach((p) => p.reject(err)),
      );
    }
    this.queues.clear();
  }
}
