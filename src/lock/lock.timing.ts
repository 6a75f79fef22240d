/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Pause before the next attempt on a busy lock or semaphore: `retryDelayMs` plus or minus up to `jitterMs`
 * (against callers retrying in lock-step), never negative.
 */
export function retryPauseMs(retryDelayMs: number, jitterMs: number): number {
  return Math.max(0, retryDelayMs + Math.round((Math.random() * 2 - 1) * jitterMs));
}
