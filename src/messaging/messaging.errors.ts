/** A message payload failed its DTO validation; the handler was not called. */
export class MessageValidationError extends Error {
  override readonly name = 'MessageValidationError';
  /**
   * @param type channel or stream of the message
   * @param problems one line per failed constraint
   */
  constructor(
    readonly type: string,
    readonly problems: string[],
  ) {
    super(`Invalid payload on "${type}": ${problems.join('; ')}`);
  }
}

/** `IdempotencyGuard.processOnce` found the id being processed right now by someone else; retry later. */
export class IdempotencyInProgressError extends Error {
  override readonly name = 'IdempotencyInProgressError';
  /** @param id the idempotency id */
  constructor(readonly id: string) {
    super(`Message "${id}" is being processed elsewhere; retry later`);
  }
}
