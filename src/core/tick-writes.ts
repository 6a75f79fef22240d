import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';

/** The part of a socket this file uses. */
interface Corkable {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Commands in a tick's first write; the rest of the tick leaves in one more write when it ends. The first write lets
 * Redis start while the callers build the others (when Redis runs on another core, Node and Redis then work at the
 * same time instead of taking turns); one write for the rest keeps it to two socket writes and two wake-ups of Redis
 * per tick (when Redis shares Node's core, each write costs a context switch). Measured with the cache peers bench
 * against every 8 and whole ticks, on both core placements, see docs/performance.md.
 */
const FIRST_WRITE_COMMANDS = 8;

/** Sockets corked in this tick, uncorked together on the next `process.nextTick`. */
const corked: Corkable[] = [];
/** Commands announced on `corked[i]` in this tick; past {@link FIRST_WRITE_COMMANDS} its first write has gone. */
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
  } else if (++announced[at] === FIRST_WRITE_COMMANDS + 1) {
    // The first commands go out now; this one and the rest of the tick wait for the end of the tick.
    stream.uncork();
    stream.cork();
  }
}

/**
 * Makes the writes to the client's connection(s) until the end of this tick go out together, in at most two socket
 * writes: the socket is corked now, its first `FIRST_WRITE_COMMANDS` commands are written as soon as they are there,
 * and the rest when it is uncorked on `process.nextTick`, after the promise continuations of this tick have run, so
 * the commands that many concurrent callers issue in one tick leave in two `writev`s instead of one socket write
 * each. Call it right before sending a command (`deadlines.send`, a pipeline...): the commands themselves, their
 * replies and their deadlines are unchanged. Cheap enough for one caller (one corked write, one `nextTick`). On a Cluster every node's connection is
 * corked.
 */
export function batchWritesThisTick(client: RedisClient): void {
  if (client.isCluster) {
    for (const node of (client as Cluster).nodes('all')) cork(node.stream);
  } else {
    cork((client as Redis).stream);
  }
}
