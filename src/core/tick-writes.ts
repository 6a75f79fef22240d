import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';

/** The part of a socket this file uses. */
interface Corkable {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/** Sockets corked in this tick, uncorked together on the next `process.nextTick`. */
const corked: Corkable[] = [];

function uncorkAll(): void {
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}

function cork(stream: Corkable | undefined): void {
  if (!stream?.writable || corked.includes(stream)) return;
  stream.cork();
  if (corked.push(stream) === 1) process.nextTick(uncorkAll);
}

/**
 * Makes every write to the client's connection(s) until the end of this tick go out together: the socket is corked
 * now and uncorked on `process.nextTick`, after the promise continuations of this tick have run, so the commands
 * that many concurrent callers issue in one tick leave in one `writev` instead of one socket write each (what
 * node-redis does on every command). Call it right before sending a command (`deadlines.send`, a pipeline...): the
 * commands themselves, their replies and their deadlines are unchanged. Cheap enough for one caller (one corked
 * write, one `nextTick`). On a Cluster every node's connection is corked.
 */
export function batchWritesThisTick(client: RedisClient): void {
  if (client.isCluster) {
    for (const node of (client as Cluster).nodes('all')) cork(node.stream);
  } else {
    cork((client as Redis).stream);
  }
}
