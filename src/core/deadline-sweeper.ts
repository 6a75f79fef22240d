import { Command } from 'ioredis';
import { RedisTimeoutError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';

/** Something the sweeper can give up on: an ioredis `Command` is one, a {@link DeadlineTicket} another. */
export interface Expirable {
  /** True once it has an outcome; the sweeper then forgets it. */
  readonly isSettled: boolean;
  /** Called once by the sweeper when it is still unsettled after its deadline. */
  reject(err: Error): void;
}

/**
 * A deadline for an operation that is not a single ioredis `Command` (a pipeline, a script with a fallback, a
 * loader): the sweeper calls `onLate` once if {@link settle} was not called in time.
 */
export class DeadlineTicket implements Expirable {
  private done = false;

  /** @param onLate called at most once, with a {@link RedisTimeoutError}, when the deadline passes first */
  constructor(private readonly onLate: (err: Error) => void) {}

  /** True once settled or expired. */
  get isSettled(): boolean {
    return this.done;
  }

  /** Marks the operation finished. Returns false when the deadline had already passed (its outcome is late). */
  settle(): boolean {
    if (this.done) return false;
    this.done = true;
    return true;
  }

  /** @internal called by the sweeper */
  reject(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.onLate(err);
  }
}

/**
 * An ioredis `Command` for {@link DeadlineSweeper.send}: the sweeper is its only deadline. The client's own
 * `commandTimeout` would arm a second timer per command (`setTimeout` + `clearTimeout`, a cost on a hot path) for a
 * bound that is longer than the sweeper's anyway, so this command does not arm it. Send it only through the sweeper.
 */
export class SweptCommand extends Command {
  /** Not armed: {@link DeadlineSweeper.send} bounds the command. */
  override setTimeout(): void {}
}

/** Compact the queue once this many finished entries sit before its head. */
const COMPACT_AT = 1024;

/**
 * One timer for many deadlines. Hot paths (a cache GET, a throttler decision, a lock script) must not pay a
 * `setTimeout` + `Promise.race` per call: they push the command and its deadline onto one FIFO (parallel arrays,
 * no record per entry) and one interval timer, running only while something is tracked, rejects what is late.
 * An entry is given up at most `periodMs` after its deadline. Late entries are rejected after the I/O phase, so
 * answers that arrived while the event loop itself was late are processed first and a busy process does not
 * mistake its own lag for a slow Redis.
 */
export class DeadlineSweeper {
  private items: Array<Expirable | undefined> = [];
  private deadlines: number[] = [];
  private timeouts: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** @param periodMs how often the timer looks at the queue, in milliseconds (default 10) */
  constructor(private readonly periodMs = 10) {}

  /** Entries tracked and not yet known to be settled (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) if (this.items[i] && !this.items[i]?.isSettled) n++;
    return n;
  }

  /**
   * Tracks `item`: if it is still unsettled `timeoutMs` from now, it is rejected with a {@link RedisTimeoutError}.
   * @param timeoutMs bound in milliseconds
   */
  track(item: Expirable, timeoutMs: number): void {
    this.dropSettledHead();
    this.items.push(item);
    this.deadlines.push(Date.now() + timeoutMs);
    this.timeouts.push(timeoutMs);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  /**
   * A {@link DeadlineTicket} tracked with `timeoutMs`: call `settle()` when the operation ends; `onLate` runs
   * instead when it did not end in time.
   */
  ticket(timeoutMs: number, onLate: (err: Error) => void): DeadlineTicket {
    const ticket = new DeadlineTicket(onLate);
    this.track(ticket, timeoutMs);
    return ticket;
  }

  /**
   * Sends one ioredis `Command` bounded by `timeoutMs` and returns its promise; a late command is rejected with a
   * {@link RedisTimeoutError} (a `RedisUnavailableError`). No wrapper promise, no timer of its own.
   */
  send<T>(client: RedisClient, command: Command, timeoutMs: number): Promise<T> {
    this.track(command, timeoutMs);
    void client.sendCommand(command);
    return command.promise as Promise<T>;
  }

  /**
   * Forgets the settled entries at the head of the queue. Commands settle in the order they were sent (replies come
   * back in order), so on a busy client this frees each finished command on the next `track` instead of keeping it
   * (its arguments, its reply) alive until the next sweep: fewer objects survive into the old generation.
   */
  private dropSettledHead(): void {
    const items = this.items;
    let head = this.head;
    while (head < items.length) {
      const item = items[head];
      if (item !== undefined && !item.isSettled) break;
      items[head++] = undefined;
    }
    this.head = head;
  }

  private sweep(): void {
    const now = Date.now();
    const items = this.items;
    this.dropSettledHead();
    let head = this.head;
    let late: Array<{ item: Expirable; timeoutMs: number }> | undefined;
    for (let i = head; i < items.length; i++) {
      const item = items[i];
      if (item === undefined) continue;
      if (item.isSettled) {
        items[i] = undefined;
        continue;
      }
      if (this.deadlines[i] <= now) {
        (late ??= []).push({ item, timeoutMs: this.timeouts[i] });
        items[i] = undefined;
      }
    }
    if (head === items.length) {
      items.length = 0;
      this.deadlines.length = 0;
      this.timeouts.length = 0;
      head = 0;
    } else if (head >= COMPACT_AT) {
      items.splice(0, head);
      this.deadlines.splice(0, head);
      this.timeouts.splice(0, head);
      head = 0;
    }
    this.head = head;
    if (late) {
      const expired = late;
      setImmediate(() => {
        for (const { item, timeoutMs } of expired) if (!item.isSettled) item.reject(new RedisTimeoutError(timeoutMs));
      });
    }
    if (items.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The process-wide sweeper every feature uses. */
export const deadlines = new DeadlineSweeper();
