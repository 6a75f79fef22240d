/** `send()` got no (last) reply within its timeout. The request may still be handled: see the delivery rules. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  /**
   * @param pattern the request's pattern
   * @param service the service it was sent to
   * @param timeoutMs the timeout that passed, ms
   */
  constructor(
    readonly pattern: string,
    readonly service: string,
    readonly timeoutMs: number,
  ) {
    super(`No reply from service "${service}" to "${pattern}" within ${timeoutMs} ms`);
  }
}

/** The client was closed (application shutdown) while the request waited for its reply. */
export class TransportClosedError extends Error {
  override readonly name = 'TransportClosedError';
  /** @param pattern the request's pattern */
  constructor(readonly pattern: string) {
    super(`The client was closed before "${pattern}" got its reply`);
  }
}
