/**
 * @internal What a held lock is in Redis: its keys, the value they hold, and until when its lease surely runs. On
 * independent nodes it is a redlock `Lock` (which has these three).
 */
export interface LockLease {
  /** The lock keys. */
  readonly resources: readonly string[];
  /** The value every lock key holds while the lock is ours. */
  readonly value: string;
  /** Epoch milliseconds until which the lock is surely held (lease end minus clock-drift allowance). */
  readonly expiration: number;
}

/** What a {@link LockHandle} asks its LockService to do (internal). */
export interface LockHandleOwner {
  /** Extends `handle`'s lease; returns the new lease. */
  extendLock(handle: LockHandle, lease: LockLease, ttlMs: number): Promise<LockLease>;
  /** Releases `lease`; resolves true when released on a quorum, false otherwise (never rejects). */
  releaseLock(handle: LockHandle, lease: LockLease): Promise<boolean>;
}

/**
 * A held lock: its fencing token(s), when it expires, and `extend()` / `release()`.
 * Returned by `LockService.acquire()` and passed to the work of `LockService.using()`.
 */
export class LockHandle {
  private releasedFlag = false;
  private fenceRecord: Readonly<Record<string, number>> | undefined;

  /** @internal */
  constructor(
    private readonly owner: LockHandleOwner,
    /** The locked resources, as given. */
    readonly resources: readonly string[],
    private lease: LockLease,
    /** Fencing token of each resource, in the order of `resources`; empty when fencing is off. */
    private readonly tokens: readonly number[],
  ) {}

  /** Fencing token of the first resource (0 when fencing is off). Hand it to the store so it can refuse a stale holder. */
  get fence(): number {
    return this.tokens[0] ?? 0;
  }

  /**
   * Fencing token of each resource, by resource (INCR per acquisition, grows per resource); empty when fencing is
   * off. Built on first read: an object keyed by resource names, made per acquisition, would cost V8 a new object
   * shape for every resource name a process locks.
   */
  get fences(): Readonly<Record<string, number>> {
    if (!this.fenceRecord) {
      const record: Record<string, number> = {};
      for (let i = 0; i < this.tokens.length; i++) record[this.resources[i]] = this.tokens[i];
      this.fenceRecord = record;
    }
    return this.fenceRecord;
  }

  /** Epoch milliseconds until which the lock is surely held (lease end minus clock-drift allowance). */
  get expiresAt(): number {
    return this.lease.expiration;
  }

  /** True once `release()` was called. */
  get released(): boolean {
    return this.releasedFlag;
  }

  /** True while the lease runs and the lock was not released. */
  get held(): boolean {
    return !this.releasedFlag && this.lease.expiration > Date.now();
  }

  /**
   * Extends the lease to `ttlMs` from now. Rejects with `LockLostError` when the lock expired or was taken,
   * `RedisUnavailableError` when the nodes could not be reached (the lock may still be held until `expiresAt`).
   */
  extend(ttlMs: number): Promise<void> {
    return this.owner.extendLock(this, this.lease, ttlMs).then((lease) => {
      this.lease = lease;
    });
  }

  /**
   * Releases the lock. Never throws: resolves false when it had already expired or been taken, or when the
   * nodes could not be reached (it then expires by itself at the end of its lease).
   */
  release(): Promise<boolean> {
    if (this.releasedFlag) return Promise.resolve(false);
    this.releasedFlag = true;
    return this.owner.releaseLock(this, this.lease);
  }
}
