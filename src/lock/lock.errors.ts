/** A lock call got arguments it cannot work with (ttl not a positive integer, empty resource...). Thrown at the call. */
export class LockOptionsError extends Error {
  override readonly name = 'LockOptionsError';
  /**
   * @param option name of the offending argument, e.g. `ttlMs`, `resources[1]`
   * @param problem what is wrong with it
   */
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`Invalid lock option "${option}": ${problem}`);
  }
}

/** The lock could not be had within the retry budget: another holder has it. HTTP maps it to 423 + Retry-After. */
export class LockNotAcquiredError extends Error {
  override readonly name = 'LockNotAcquiredError';
  /**
   * @param resources the resources asked for
   * @param retryAfterMs a hint: how long (milliseconds) until the current holder's lease ends
   * @param attempts how many attempts were made
   */
  constructor(
    readonly resources: readonly string[],
    readonly retryAfterMs: number,
    readonly attempts: number,
  ) {
    super(
      `Lock on ${resources.map((r) => `"${r}"`).join(', ')} not acquired after ${attempts} attempt(s); ` +
        `retry in about ${retryAfterMs} ms`,
    );
  }
}

/**
 * A held lock was lost (it expired, could not be extended, or the quorum was lost) before the work finished.
 * Exclusivity is no longer guaranteed: the work was aborted and its result must not be trusted.
 */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
  /**
   * @param resources the resources that were locked
   * @param reason what happened
   */
  constructor(
    readonly resources: readonly string[],
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Lock on ${resources.map((r) => `"${r}"`).join(', ')} lost: ${reason}`, options);
  }
}
