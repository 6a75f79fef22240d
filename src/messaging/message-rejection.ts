import { HttpException, HttpStatus } from '@nestjs/common';

/** 4xx statuses that say "later", not "never": a message refused with them is handled as a failure (retried). */
const TRANSIENT_4XX: ReadonlySet<number> = new Set([HttpStatus.REQUEST_TIMEOUT, HttpStatus.TOO_MANY_REQUESTS]);

/**
 * True when `err` refuses the message itself, so that trying again cannot help: an `HttpException` with a 4xx
 * status other than 408 and 429. That is what Nest's pipeline throws for a guard refusal (403
 * `ForbiddenException`) and a `ValidationPipe` failure (400 `BadRequestException`), and what a handler throws to
 * say "this message is wrong". A refused stream message goes to the DLQ at once; a refused pub/sub message is
 * dropped; both are logged and counted as `rejected`. Any other error is a failure (retried on a stream).
 */
export function isMessageRejection(err: unknown): err is HttpException {
  if (!(err instanceof HttpException)) return false;
  const status = err.getStatus();
  return status >= 400 && status < 500 && !TRANSIENT_4XX.has(status);
}

/**
 * The reason recorded for a refused message: `rejected (<status>): <message>`, where the message is the
 * exception's response message (ValidationPipe's constraint messages joined with `; `).
 */
export function rejectionReason(err: HttpException): string {
  const response = err.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response
      ? (response as { message: unknown }).message
      : response;
  const text = Array.isArray(message) ? message.map(String).join('; ') : String(message);
  return `rejected (${err.getStatus()}): ${text}`;
}
