import type { Lock } from '@sesamecare-oss/redlock';

/** What a {@link LockHandle} asks its LockService to do (internal). */
export interface LockHandleOwner {
  /** Extends `handle`'s lease; returns the new redlock Lock. */
  extendLock(handle: LockHandle, lock: Lock, ttlMs: number): Promise<Lock>;
  /** Releases `lock`; resolves true when released on a quorum, false otherwise (never rejects). */
  releaseLock(handle: LockHandle, lock: Lock): Promise<boolean>;
}

/**
 * A held lock: its fencing token(s), when it expires, and `extend()` / `release()`.
 * Returned by `LockService.acquire()` and passed to the work of `LockService.using()`.
 */
export class LockHandle {
  private releasedFlag = false;

  /** @internal */
  constructor(
    private readonly owner: LockHandleOwner,
    /** The locked resources, as given. */
    readonly resources: readonly string[],
    private lock: Lock,
    /** Fencing token of each resource (INCR per acquisition, grows per resource); empty when fencing is off. */
    readonly fences: Readonly<Record<string, number>>,
  ) {}

  /** Fencing token of the first resource (0 when fencing is off). Hand it to the store so it can refuse a stale holder. */
  get fence(): number {
    return this.fences[this.resources[0]] ?? 0;
  }

  /** Epoch milliseconds until which the lock is surely held (lease end minus clock-drift allowance). */
  get expiresAt(): number {
    return this.lock.expiration;
  }

  /** True once `release()` was called. */
  get released(): boolean {
    return this.releasedFlag;
  }

  /** True while the lease runs and the lock was not released. */
  get held(): boolean {
    return !this.releasedFlag && this.lock.expiration > Date.now();
  }

  /**
   * Extends the lease to `ttlMs` from now. Rejects with `LockLostError` when the lock expired or was taken,
   * `RedisUnavailableError` when the nodes could not be reached (the lock may still be held until `expiresAt`).
   */
  async extend(ttlMs: number): Promise<void> {
    this.lock = await this.owner.extendLock(this, this.lock, ttlMs);
  }

  /**
   * Releases the lock. Never throws: resolves false when it had already expired or been taken, or when the
   * nodes could not be reached (it then expires by itself at the end of its lease).
   */
  async release(): Promise<boolean> {
    if (this.releasedFlag) return false;
    this.releasedFlag = true;
    return this.owner.releaseLock(this, this.lock);
  }
}
