import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';

/** The part of a socket this file uses. */
interface Corkable {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Commands per corked write. One write for everything a tick sends makes Node and Redis take turns (Redis idles
 * while Node builds the batch, Node idles while Redis runs it); writing every few commands lets Redis start on the
 * first ones while the callers build the next, and still saves most socket writes. 8 was measured best among 4, 8,
 * 24 and unbounded with the peers bench (16 and 50 callers) on a 2-core machine, see docs/performance.md.
 */
const COMMANDS_PER_WRITE = 8;

/** Sockets corked in this tick, uncorked together on the next `process.nextTick`. */
const corked: Corkable[] = [];
/** Commands announced on `corked[i]` since its last write. */
const announced: number[] = [];

function uncorkAll(): void {
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
  announced.length = 0;
}

function cork(stream: Corkable | undefined): void {
  if (!stream?.writable) return;
  const at = corked.indexOf(stream);
  if (at < 0) {
    stream.cork();
    announced.push(1);
    if (corked.push(stream) === 1) process.nextTick(uncorkAll);
  } else if (++announced[at] > COMMANDS_PER_WRITE) {
    // The commands written since the last write go out now; this one starts the next write.
    stream.uncork();
    stream.cork();
    announced[at] = 1;
  }
}

/**
 * Makes the writes to the client's connection(s) until the end of this tick go out together, a few commands per
 * socket write: the socket is corked now, written every `COMMANDS_PER_WRITE` commands and uncorked on
 * `process.nextTick`, after the promise continuations of this tick have run, so the commands that many concurrent
 * callers issue in one tick leave in a few `writev`s instead of one socket write each. Call it right before sending
 * a command (`deadlines.send`, a pipeline...): the commands themselves, their replies and their deadlines are
 * unchanged. Cheap enough for one caller (one corked write, one `nextTick`). On a Cluster every node's connection is
 * corked.
 */
export function batchWritesThisTick(client: RedisClient): void {
  if (client.isCluster) {
    for (const node of (client as Cluster).nodes('all')) cork(node.stream);
  } else {
    cork((client as Redis).stream);
  }
}
