/**
 * Waiting with a bound: the one `sleep`, and the one timeout around a promise, used by every feature.
 * Hot paths that send many Redis commands use {@link DeadlineSweeper} instead (one timer for all of them).
 */

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Ends the pause early (the promise then resolves at once, it does not reject). */
  signal?: AbortSignal;
  /** Do not keep the process alive for this pause (default false). */
  unref?: boolean;
}

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (resolves, never rejects: a loop checks its
 * signal after the pause).
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal, unref } = options;
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (unref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The outcome of `work`, or a rejection with `onTimeout()` when it has not settled within `timeoutMs`.
 * The timer is cleared as soon as `work` settles. `work` itself is not cancelled: it goes on and its
 * late outcome is ignored (a late rejection is not reported as unhandled).
 * @param timeoutMs bound in milliseconds
 * @param onTimeout makes the error to reject with (called only on timeout)
 */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(onTimeout());
    }, timeoutMs);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Waits for `work` at most `timeoutMs`: resolves with its value, or with `fallback` when it is late or
 * rejects. Never rejects. For best-effort steps (a QUIT on shutdown, an optional probe).
 * @param timeoutMs bound in milliseconds
 */
export function settleWithin<T, F>(work: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> {
  return withTimeout(work, timeoutMs, () => new Error('late')).catch(() => fallback);
}
