/**
 * Pause before the next attempt on a busy lock or semaphore, in milliseconds: `retryDelayMs` plus or minus up to
 * `jitterMs` (against callers retrying in lock-step), never negative.
 */
export function retryPauseMs(retryDelayMs: number, jitterMs: number): number {
  return Math.max(0, retryDelayMs + Math.round((Math.random() * 2 - 1) * jitterMs));
}
