import { Command, type Cluster, type Redis } from 'ioredis';
import { batchWritesWhileBusy, deadlines, SweptCommand, type LuaArg, type LuaScript } from '../core';
import type { RedisClient } from '../redis';

/** The `commandTimeout` of a client (a Cluster: of its node connections), in milliseconds, if it has one. */
function commandTimeoutOf(client: RedisClient): number | undefined {
  const options = client.isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  return options?.commandTimeout;
}

/**
 * The commands of locks and semaphores on one client (acquire, extend, release, count): each is bounded by the
 * shared deadline sweeper with the client's `commandTimeout` (no timer per command; undefined: no bound but the
 * client's own), and written with the other commands of the tick while the connection has commands in flight
 * (concurrent callers), at once otherwise.
 */
export class LockCommands {
  private readonly timeoutMs: number | undefined;

  /** @param client the one client the commands run on */
  constructor(readonly client: RedisClient) {
    this.timeoutMs = commandTimeoutOf(client);
  }

  /** Runs `script` (EVALSHA, EVAL when Redis does not have it yet); resolves its reply. */
  script<T>(script: LuaScript, keys: readonly string[], args: readonly LuaArg[]): Promise<T> {
    batchWritesWhileBusy(this.client);
    return script.run<T>(this.client, keys, args, this.timeoutMs);
  }

  /** Sends one plain command (`name`, e.g. `set`, with `args`); resolves its reply, strings as UTF-8. */
  command<T>(name: string, args: LuaArg[]): Promise<T> {
    const client = this.client;
    batchWritesWhileBusy(client);
    if (this.timeoutMs !== undefined) {
      return deadlines.send<T>(client, new SweptCommand(name, args, { replyEncoding: 'utf8' }), this.timeoutMs);
    }
    const command = new Command(name, args, { replyEncoding: 'utf8' });
    void client.sendCommand(command);
    return command.promise as Promise<T>;
  }
}
