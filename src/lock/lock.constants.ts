/** Injection token of the LockModule options (as given; validated by LockService at startup). */
export const LOCK_MODULE_OPTIONS = 'nest-redis-kit:lock:options';

/** Metadata key set by `@WithLock` on a method. */
export const WITH_LOCK_METADATA = 'nest-redis-kit:lock:with-lock';
