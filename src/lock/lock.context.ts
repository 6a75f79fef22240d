import { AsyncLocalStorage } from 'node:async_hooks';
import type { LockHandle } from './lock.handle';

/** How long the context stays switched on after the last work under a lock ended, in milliseconds. */
export const LOCK_CONTEXT_IDLE_MS = 1_000;

/**
 * Which lock the running code holds, for `LockService.current()`: an AsyncLocalStorage that `using()` and
 * `@WithLock` enter around their work, so the handle follows the work through every `await`.
 *
 * On Node 20 a live AsyncLocalStorage makes every promise of the process run a hook (a `using()` switched it on for
 * good, slowing unrelated code by about a tenth). This one is switched off again when no work has run under a lock
 * for {@link LOCK_CONTEXT_IDLE_MS}: `run()` switches it back on. Inside running work nothing changes; code that
 * outlived its lock's work (a task it left running) may then see no lock instead of the one already released.
 */
export class LockContext {
  private readonly storage = new AsyncLocalStorage<LockHandle>();
  private running = 0;
  private on = false;
  private idleTimer: NodeJS.Timeout | undefined;

  /** @param idleMs how long to stay on after the last work ended, in milliseconds */
  constructor(private readonly idleMs = LOCK_CONTEXT_IDLE_MS) {}

  /** Whether the storage is switched on (for tests). */
  get switchedOn(): boolean {
    return this.on;
  }

  /** The lock of the work that is running, if any. */
  current(): LockHandle | undefined {
    return this.on ? this.storage.getStore() : undefined;
  }

  /**
   * Starts `work` with `handle` as its lock. Call {@link leave} once the work (the promise it returned) settled.
   */
  run<R>(handle: LockHandle, work: () => R): R {
    this.running++;
    this.on = true;
    return this.storage.run(handle, work);
  }

  /** One work started by {@link run} ended. */
  leave(): void {
    this.running--;
    if (this.running > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => this.idle(), this.idleMs);
    this.idleTimer.unref();
  }

  private idle(): void {
    this.idleTimer = undefined;
    if (this.running > 0) return;
    this.on = false;
    this.storage.disable();
  }
}
