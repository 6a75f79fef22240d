import { LockLostError } from './lock.errors';
import { TimerHeap, type TimerEntry } from './timer-heap';

/** What the watchdog needs of a held lock (a `LockHandle` is one). */
export interface WatchedLock {
  /** The locked resources, for the LockLostError. */
  readonly resources: readonly string[];
  /** Epoch milliseconds until which the lock is surely held. */
  readonly expiresAt: number;
  /** True while the lease runs and the lock was not released. */
  readonly held: boolean;
  /** Extends the lease to `ttlMs` from now; rejects with LockLostError when the lock is gone. */
  extend(ttlMs: number): Promise<void>;
}

/** One held lock under watch, made by {@link LockWatchdog.watch}. */
export class LockWatch implements TimerEntry {
  /** @internal see {@link TimerEntry} */
  dueAt = 0;
  /** @internal see {@link TimerEntry} */
  heapIndex = -1;
  /** Why the lock was lost, once it was. */
  lost: LockLostError | undefined;
  /** True once stopped or lost: nothing more happens to it. */
  ended = false;
  /** @internal an extension is in flight */
  extending = false;

  /** @internal */
  constructor(
    /** The lock. */
    readonly lock: WatchedLock,
    /** Lease asked for at each extension, in milliseconds. */
    readonly ttlMs: number,
    /** Whether to extend it (otherwise the watchdog only notices its expiry). */
    readonly autoExtend: boolean,
    /** Called once, when the lock is lost. */
    readonly onLost: (err: LockLostError) => void,
  ) {}

  /** The regular pause between two extensions: a third of the lease, in milliseconds. */
  get intervalMs(): number {
    return Math.max(1, Math.floor(this.ttlMs / 3));
  }
}

/**
 * The watchdog of the locks held by `using()` and `@WithLock` work. While a lock is watched it is extended every
 * ttl/3 (never later than halfway through what is left of the lease, since a slow acquisition or a busy event loop
 * may have eaten part of it), and it is lost (`onLost` with a {@link LockLostError}) when an extension finds it gone
 * or its lease runs out while the nodes do not answer; an extension that fails because the nodes cannot be reached
 * is tried again (every third of what is left) while the lease runs, so a short outage is survived.
 *
 * All watched locks share one timer ({@link TimerHeap}: one entry per lock, due at its next extension, or at its
 * lease end while an extension is in flight or when it is not extended), instead of two timers per lock.
 */
export class LockWatchdog {
  private readonly schedule = new TimerHeap<LockWatch>((watch) => this.due(watch));

  /** Locks watched now. */
  get size(): number {
    return this.schedule.size;
  }

  /**
   * Starts watching `lock`.
   * @param ttlMs lease asked for at each extension, in milliseconds
   * @param autoExtend extend it (false: only notice when its lease ends)
   * @param onLost called once if the lock is lost before {@link stop}
   */
  watch(lock: WatchedLock, ttlMs: number, autoExtend: boolean, onLost: (err: LockLostError) => void): LockWatch {
    const watch = new LockWatch(lock, ttlMs, autoExtend, onLost);
    this.schedule.schedule(watch, autoExtend ? Date.now() + this.nextExtensionMs(watch, 2) : lock.expiresAt);
    return watch;
  }

  /** Stops watching (the work ended, the lock is being released): `onLost` is not called after this. */
  stop(watch: LockWatch): void {
    watch.ended = true;
    this.schedule.cancel(watch);
  }

  /**
   * Declares the lock lost now (unless the watch already ended) and calls its `onLost`.
   * @param cause a LockLostError is passed on as is; anything else becomes the cause of a new one
   */
  lose(watch: LockWatch, reason: string, cause?: unknown): void {
    if (watch.ended) return;
    watch.ended = true;
    this.schedule.cancel(watch);
    watch.lost = cause instanceof LockLostError ? cause : new LockLostError(watch.lock.resources, reason, { cause });
    watch.onLost(watch.lost);
  }

  /** Shutdown: every watched lock is lost with `reason` (its work is aborted), and the timer stops. */
  loseAll(reason: string): void {
    for (const watch of this.schedule.clear()) this.lose(watch, reason);
  }

  private due(watch: LockWatch): void {
    if (watch.ended) return;
    const { lock } = watch;
    if (lock.expiresAt <= Date.now()) return this.lose(watch, 'its lease expired before it could be extended');
    // Not extended, or an extension is in flight: wake up when the lease ends, to notice it.
    this.schedule.schedule(watch, lock.expiresAt);
    if (!watch.autoExtend || watch.extending) return;
    watch.extending = true;
    lock.extend(watch.ttlMs).then(
      () => {
        watch.extending = false;
        if (!watch.ended) this.schedule.schedule(watch, Date.now() + this.nextExtensionMs(watch, 2));
      },
      (err: unknown) => {
        watch.extending = false;
        if (watch.ended) return;
        if (err instanceof LockLostError || !lock.held) return this.lose(watch, 'it could not be extended', err);
        // The nodes could not be reached: try again while the lease still runs.
        this.schedule.schedule(watch, Date.now() + this.nextExtensionMs(watch, 3));
      },
    );
  }

  /** Milliseconds until the next extension: ttl/3, but no later than 1/`share` of what is left of the lease. */
  private nextExtensionMs(watch: LockWatch, share: number): number {
    const leftMs = watch.lock.expiresAt - Date.now();
    return Math.max(1, Math.min(watch.intervalMs, Math.floor(leftMs / share)));
  }
}
