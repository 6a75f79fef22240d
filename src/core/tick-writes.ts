import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';

/** The part of a socket this file uses. */
interface Corkable {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Commands per early write. One write for everything a tick sends makes Node and Redis take turns when Redis runs on
 * another core (Redis idles while Node builds the batch, Node idles while Redis runs it); writing after the first few
 * commands lets Redis start on them while the callers build the next. 8 was measured best among 4, 8, 24 and
 * unbounded with the peers bench (16 and 50 callers) on a 2-core machine, see docs/performance.md.
 */
const COMMANDS_PER_WRITE = 8;

/**
 * When the commands of a tick leave, see {@link batchWritesThisTick}:
 * - `every-8`: a write every {@link COMMANDS_PER_WRITE} commands, the rest at the end of the tick;
 * - `first-8`: the first {@link COMMANDS_PER_WRITE} commands at once, the whole rest of the tick in one more write (two
 *   socket writes, two wake-ups of Redis per tick: cheaper when Redis shares the client's core, where each write
 *   costs Redis a context switch).
 */
export type TickWriteSchedule = 'every-8' | 'first-8';

/** Sockets corked in this tick, uncorked together on the next `process.nextTick`. */
const corked: Corkable[] = [];
/** Commands announced on `corked[i]` since its last write. */
const announced: number[] = [];
/** Whether `corked[i]` was written early in this tick. */
const writtenEarly: boolean[] = [];

function uncorkAll(): void {
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
  announced.length = 0;
  writtenEarly.length = 0;
}

function cork(stream: Corkable | undefined, schedule: TickWriteSchedule): void {
  if (!stream?.writable) return;
  const at = corked.indexOf(stream);
  if (at < 0) {
    stream.cork();
    announced.push(1);
    writtenEarly.push(false);
    if (corked.push(stream) === 1) process.nextTick(uncorkAll);
  } else if (++announced[at] > COMMANDS_PER_WRITE && (schedule === 'every-8' || !writtenEarly[at])) {
    // The commands announced since the last write go out now; this one starts the next write.
    stream.uncork();
    stream.cork();
    announced[at] = 1;
    writtenEarly[at] = true;
  }
}

/**
 * Makes the writes to the client's connection(s) until the end of this tick go out together, a few socket writes
 * for many commands: the socket is corked now, written early per `schedule` (default `every-8`: every 8 commands;
 * `first-8`: once, after the first 8) and uncorked on `process.nextTick`, after the promise continuations of this
 * tick have run, so the commands that many concurrent callers issue in one tick leave in a few `writev`s instead of
 * one socket write each. Call it right before sending a command (`deadlines.send`, a pipeline...): the commands
 * themselves, their replies and their deadlines are unchanged. Cheap enough for one caller (one corked write, one
 * `nextTick`). On a Cluster every node's connection is corked.
 */
export function batchWritesThisTick(client: RedisClient, schedule: TickWriteSchedule = 'every-8'): void {
  if (client.isCluster) {
    for (const node of (client as Cluster).nodes('all')) cork(node.stream, schedule);
  } else {
    cork((client as Redis).stream, schedule);
  }
}

/**
 * Whether the client's connection has commands awaiting replies. A Cluster always counts as busy (its node
 * connections are not checked).
 */
function hasCommandsInFlight(client: RedisClient): boolean {
  return client.isCluster || (client as Redis).commandQueue.length > 0;
}

/**
 * {@link batchWritesThisTick}, but only while the client's connection has commands awaiting replies (concurrent
 * callers): a single command sent alone is written at once, since corking it would only hold it until the end of the
 * tick, in series with its caller's round trip. For hot paths that send one command per call (cache, locks, rate
 * decisions); a batcher that sends many commands at once calls {@link batchWritesThisTick} itself.
 */
export function batchWritesWhileBusy(client: RedisClient, schedule: TickWriteSchedule = 'every-8'): void {
  if (hasCommandsInFlight(client)) batchWritesThisTick(client, schedule);
}
